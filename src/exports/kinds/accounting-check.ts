import type { DataSource } from 'typeorm';
import { documentOf, type AccountingEntryLine, type AccountingSourceRow } from '../../accounting/entries';
import { fecNaming } from '../../accounting/fec-name';
import { importLayout } from '../../accounting/layouts';
import { MAX_LISTED_DOCUMENTS, ProblemList, type LayoutProblem } from '../../accounting/layouts/problems';
import { fiscalYearEndOf, type AccountingSettingsData } from '../../accounting/settings';
import { ExportFormat } from '../../entities/enums';
import { formatCents } from '../../money';
import { LayoutFileWriter } from '../writers/layout';
import type { ExportWriter } from '../writers/writer';
import { AccountingEntriesWriter } from './accounting-entries-writer';

/**
 * The pre-flight check of an accounting export (docs/accounting.md): the same
 * SELECT, read the same way (one read-only snapshot, a cursor, batches),
 * through the same entries writer and the same layout writer as the export
 * — only nothing is written. A clean check therefore means a clean export
 * (unless the data changes in between: the worker checks again).
 */

export interface AccountingCheckInput {
  format: ExportFormat;
  settings: AccountingSettingsData;
  /** The kind's streamed SELECT for the selection. */
  rowsQuery: { text: string; values: unknown[] };
  /** The tenant's SIREN as stored (the FEC's name). */
  siren: string | null;
  /** `yyyy-mm-dd` on the tenant's clock. */
  today: string;
}

export interface AccountingCheckResult {
  entryCount: number;
  lineCount: number;
  totalDebit: string;
  totalCredit: string;
  /** Blocking: the export would be refused. */
  problems: LayoutProblem[];
  /** Not blocking: labels shortened, the FEC's dated name. */
  warnings: LayoutProblem[];
}

const FETCH_BATCH = 1000;

/** An inner writer that only counts lines (FEC, CSV, XLSX: nothing in their layout can be refused). */
function lineCounter(): ExportWriter<AccountingEntryLine> {
  let count = 0;
  return {
    get rowCount() {
      return count;
    },
    async writeRow() {
      count++;
    },
    async finish() {},
    abort() {},
  };
}

/** Documents per fiscal year (rows come in billing-date order): which ones fall outside the latest year. */
class FiscalYears {
  private readonly years = new Map<string, { count: number; documents: string[] }>();
  earliest: string | null = null;
  latest: string | null = null;
  private last: string | null = null;

  constructor(private readonly fiscalYearEnd: string) {}

  add(row: AccountingSourceRow): void {
    if (row.invoiceId === this.last) return;
    this.last = row.invoiceId;
    const doc = documentOf(row);
    const date = doc.billingDate;
    if (this.earliest === null || date < this.earliest) this.earliest = date;
    if (this.latest === null || date > this.latest) this.latest = date;
    const end = fiscalYearEndOf(date, this.fiscalYearEnd);
    let year = this.years.get(end);
    if (!year) this.years.set(end, (year = { count: 0, documents: [] }));
    year.count++;
    if (year.documents.length < MAX_LISTED_DOCUMENTS) year.documents.push(doc.number);
  }

  /** Documents outside the fiscal year of `end`, first ones in export order. */
  outside(end: string): { count: number; documents: string[] } {
    let count = 0;
    const documents: string[] = [];
    for (const [yearEnd, year] of [...this.years].sort(([a], [b]) => a.localeCompare(b))) {
      if (yearEnd === end) continue;
      count += year.count;
      for (const d of year.documents) if (documents.length < MAX_LISTED_DOCUMENTS) documents.push(d);
    }
    return { count, documents };
  }
}

export async function checkAccountingEntries(ds: DataSource, input: AccountingCheckInput): Promise<AccountingCheckResult> {
  const { settings, format } = input;
  const layout = importLayout(format);
  const layoutWriter = layout ? new LayoutFileWriter(layout, { settings }, null) : null;
  const refusals = new ProblemList();
  const entries = new AccountingEntriesWriter(layoutWriter ?? lineCounter(), { settings, validDate: input.today }, { payersWithoutIdentifier: 0, alreadyTransferred: 0 }, refusals);
  const years = new FiscalYears(settings.fiscalYearEnd);

  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await qr.query('SET LOCAL jit = off');
    await qr.query(`DECLARE check_rows NO SCROLL CURSOR FOR ${input.rowsQuery.text}`, input.rowsQuery.values);
    for (;;) {
      const batch: AccountingSourceRow[] = await qr.query(`FETCH FORWARD ${FETCH_BATCH} FROM check_rows`);
      if (!batch.length) break;
      for (const row of batch) {
        years.add(row);
        await entries.writeRow(row);
      }
    }
    await entries.endOfRows();
    await qr.query('COMMIT');
  } catch (err) {
    await qr.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await qr.release();
  }

  const problems = [...refusals.list(), ...(layoutWriter?.problems() ?? [])];
  const warnings = [...(layoutWriter?.warnings() ?? [])];
  if (format === ExportFormat.FEC) {
    const naming = fecNaming(input.siren, years.earliest, years.latest, settings.fiscalYearEnd, input.today);
    if (naming.warnings.includes('SIREN_INVALID')) warnings.push({ rule: 'SIREN_INVALID', field: 'siren', width: null, count: 0, documents: [] });
    if (naming.warnings.includes('SPANS_FISCAL_YEARS')) {
      const outside = years.outside(fiscalYearEndOf(years.latest!, settings.fiscalYearEnd));
      warnings.push({ rule: 'SPANS_FISCAL_YEARS', field: 'EcritureDate', width: null, ...outside });
    }
  }
  const { debit, credit } = entries.totals;
  return {
    entryCount: entries.entryCount,
    lineCount: entries.rowCount,
    totalDebit: formatCents(debit),
    totalCredit: formatCents(credit),
    problems,
    warnings,
  };
}
