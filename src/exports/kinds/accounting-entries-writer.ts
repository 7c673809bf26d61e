import { buildEntry, documentOf, type AccountingEntryLine, type AccountingSourceRow, type EntryContext } from '../../accounting/entries';
import type { ProblemList } from '../../accounting/layouts/problems';
import type { Queryable } from '../../db/sql';
import { ExportErrorCode, ExportRefusal } from '../../errors';
import { formatCents, toCents } from '../../money';
import type { ExportSummary, ExportWriter, SummaryFact } from '../writers/writer';

/** Value of each hexadecimal digit by character code, -1 for other characters. */
const HEX_VALUE = Int8Array.from({ length: 128 }, (_, c) => {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
});

/** Transfer marks per INSERT while the entries stream (16 bytes of id each: 32 KiB a statement). */
const MARKS_PER_INSERT = 2000;

/** Facts of the `Résumé` that only the entries know (the totals query gives the others). */
export interface EntryFileFacts {
  /** Payers of the selection without a customer identifier (they get the fallback auxiliary account). */
  payersWithoutIdentifier: number;
  /** Documents of the selection that an earlier export had already transferred. */
  alreadyTransferred: number;
}

/**
 * The accounting kind's writer: takes the SELECT's rows (billing lines,
 * consecutive per document), turns each document into its entry and hands
 * the entry's lines to the file writer (FEC, CSV or XLSX). Holds one
 * document's lines at a time. Each document written gets its transfer mark:
 * with `markTransfersAlong`, INSERTed every 2,000 documents into the
 * transaction that will complete the export (one statement in flight at a
 * time), else kept (16 bytes per document) and INSERTed at completion. `finish` refuses a file whose debit total is
 * not its credit total, or whose receivable total is not the selection's
 * amount_due: a bug must never reach the accountant.
 */
export class AccountingEntriesWriter implements ExportWriter<AccountingSourceRow> {
  private pending: AccountingSourceRow[] = [];
  private entries = 0;
  private debit = 0n;
  private credit = 0n;
  private receivable = 0n;
  private ids: Buffer = Buffer.alloc(16 * 1024);
  private idBytes = 0;
  private marks: { db: Queryable; tenantId: string; exportId: string; inFlight: Promise<void> | null } | null = null;

  constructor(
    private readonly inner: ExportWriter<AccountingEntryLine>,
    private readonly ctx: EntryContext,
    private readonly facts: EntryFileFacts,
    /** The pre-flight check: a refused entry is recorded here (with its document) instead of stopping everything. */
    private readonly refusals: ProblemList | null = null,
  ) {}

  /** Total debit and credit of the entries so far, cents. */
  get totals(): { debit: bigint; credit: bigint } {
    return { debit: this.debit, credit: this.credit };
  }

  /** Turns the rows still pending into their entry (the end of the rows, without finishing the file). */
  async endOfRows(): Promise<void> {
    if (this.pending.length) await this.flushEntry();
  }

  get rowCount(): number {
    return this.inner.rowCount;
  }

  get entryCount(): number {
    return this.entries;
  }

  async writeRow(row: AccountingSourceRow): Promise<void> {
    if (this.pending.length && this.pending[0].invoiceId !== row.invoiceId) await this.flushEntry();
    this.pending.push(row);
  }

  async finish(summary: ExportSummary): Promise<void> {
    await this.endOfRows();
    if (this.debit !== this.credit) {
      throw new ExportRefusal(ExportErrorCode.UNBALANCED_ENTRIES, `The file does not balance: total debit ${formatCents(this.debit)}, total credit ${formatCents(this.credit)}. Nothing was exported.`);
    }
    const expected = toCents(summary.totalDue);
    if (this.receivable !== expected) {
      throw new ExportRefusal(ExportErrorCode.UNBALANCED_ENTRIES, `The receivable total ${formatCents(this.receivable)} differs from the amount due of the selection ${summary.totalDue}. Nothing was exported.`);
    }
    const documents = summary.invoiceCount + summary.creditNoteCount;
    if (this.entries !== documents) {
      throw new Error(`Snapshot changed under the export: counted ${documents} documents, wrote ${this.entries} entries`);
    }
    const extraFacts: SummaryFact[] = [
      { label: { 'fr-FR': "Nombre d'écritures", 'en-GB': 'Number of entries' }, type: 'integer', value: this.entries },
      { label: { 'fr-FR': 'Total débit', 'en-GB': 'Total debit' }, type: 'money', value: formatCents(this.debit) },
      { label: { 'fr-FR': 'Total crédit', 'en-GB': 'Total credit' }, type: 'money', value: formatCents(this.credit) },
      { label: { 'fr-FR': 'Payeurs sans identifiant client', 'en-GB': 'Payers without customer identifier' }, type: 'integer', value: this.facts.payersWithoutIdentifier },
      { label: { 'fr-FR': 'Compte auxiliaire des payeurs sans identifiant', 'en-GB': 'Auxiliary account of payers without identifier' }, type: 'text', value: this.ctx.settings.fallbackAuxiliaryAccount },
      { label: { 'fr-FR': 'Pièces déjà transférées en comptabilité', 'en-GB': 'Documents already transferred to accounting' }, type: 'integer', value: this.facts.alreadyTransferred },
    ];
    // Rows of the file are entry lines, not the billing lines the SELECT streamed.
    await this.inner.finish({ ...summary, rowCount: this.inner.rowCount, extraFacts: [...(summary.extraFacts ?? []), ...extraFacts] });
  }

  abort(reason?: Error): void {
    this.pending = [];
    this.inner.abort(reason);
  }

  /**
   * Sends the transfer marks into `db` — the transaction that will mark the
   * export COMPLETED (kinds/kind.ts `completion`) — as the documents are
   * written, instead of all of them at completion.
   */
  markTransfersAlong(db: Queryable, tenantId: string, exportId: string): void {
    this.marks = { db, tenantId, exportId, inFlight: null };
  }

  /** Marks the exported documents (those not sent yet) as transferred, in the transaction that completes the export. */
  async recordTransfers(db: Queryable, tenantId: string, exportId: string): Promise<void> {
    if (this.marks?.inFlight) await this.marks.inFlight;
    if (this.idBytes === 0) return;
    await insertMarks(db, tenantId, exportId, this.ids.subarray(0, this.idBytes));
    this.idBytes = 0;
  }

  /** The marks kept so far go out in one statement; waits for the previous one first (a slow PostgreSQL slows the writer). */
  private async sendMarks(): Promise<void> {
    const m = this.marks!;
    if (m.inFlight) await m.inFlight;
    const ids = Buffer.from(this.ids.subarray(0, this.idBytes));
    this.idBytes = 0;
    m.inFlight = insertMarks(m.db, m.tenantId, m.exportId, ids);
    m.inFlight.catch(() => undefined); // its failure surfaces at the next send or at completion
  }

  private async flushEntry(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    let entry;
    try {
      entry = buildEntry(this.entries + 1, rows, this.ctx);
    } catch (err) {
      if (!this.refusals || !(err instanceof ExportRefusal)) throw err;
      this.refusals.add(err.code, err.field, null, documentOf(rows[0]).number);
      this.entries++; // numbered as the file would have numbered it
      return;
    }
    this.entries++;
    this.debit += entry.debit;
    this.credit += entry.credit;
    this.receivable += entry.receivable;
    this.rememberId(rows[0].invoiceId);
    if (this.marks && this.idBytes >= MARKS_PER_INSERT * 16) await this.sendMarks();
    for (const line of entry.lines) await this.inner.writeRow(line);
  }

  /** The document's uuid as its 16 bytes, parsed in place (no string per document). */
  private rememberId(id: string): void {
    if (this.idBytes + 16 > this.ids.length) {
      const bigger = Buffer.alloc(this.ids.length * 2);
      this.ids.copy(bigger, 0, 0, this.idBytes);
      this.ids = bigger;
    }
    let b = this.idBytes;
    for (let i = 0; i < id.length; i += 2) {
      if (id.charCodeAt(i) === 45 /* - */) i++;
      const hi = HEX_VALUE[id.charCodeAt(i)] ?? -1;
      const lo = HEX_VALUE[id.charCodeAt(i + 1)] ?? -1;
      if (hi < 0 || lo < 0 || b === this.idBytes + 16) throw new TypeError(`Not a uuid: ${JSON.stringify(id)}`);
      this.ids[b++] = (hi << 4) | lo;
    }
    if (b !== this.idBytes + 16) throw new TypeError(`Not a uuid: ${JSON.stringify(id)}`);
    this.idBytes = b;
  }
}

/** One transfer mark per document: `ids` holds their uuids, 16 bytes each (one bytea parameter rather than an array of strings). */
async function insertMarks(db: Queryable, tenantId: string, exportId: string, ids: Buffer): Promise<void> {
  await db.query(
    `INSERT INTO accounting_transfers (tenant_id, invoice_id, export_id, transferred_at)
     SELECT i.tenant_id, i.id, $2, now()
     FROM generate_series(0, length($3::bytea) / 16 - 1) AS g(n)
     JOIN invoices i ON i.tenant_id = $1 AND i.id = encode(substring($3::bytea FROM g.n * 16 + 1 FOR 16), 'hex')::uuid
     ON CONFLICT (export_id, invoice_id) DO NOTHING`,
    [tenantId, exportId, ids],
  );
}
