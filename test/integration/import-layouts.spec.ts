/**
 * The importer layouts end to end (docs/accounting.md, docs/accounting.md): real
 * PostgreSQL, Redis, S3. The golden selection through the real pipeline
 * gives the committed golden files byte for byte; the pre-flight check
 * agrees with the export; identifiers that do not fit are refused at
 * request time (nothing recorded) or, when the data changed since, fail
 * the export with no file; the request-time check (SQL aggregates) refuses
 * exactly what the pre-flight check finds, without reading the selection's
 * rows; the FEC's statutory name; the record lengths of a 20,000-invoice export.
 */
import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { importLayout } from '../../src/accounting/layouts';
import { includedVatCents, includedVatCentsSql, rateHundredths } from '../../src/accounting/vat';
import { ExportFormat, InvoiceType, Role } from '../../src/entities/enums';
import { seedTenant } from '../../dev/seed/seed';
import { RunningWorker, startWorker } from '../../src/worker/worker';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import {
  GOLDEN_ACCOUNT_LABELS, GOLDEN_DOCUMENTS, GOLDEN_PAYERS, LAYOUT_FORMATS, balanceOf, readLayoutFile,
} from '../helpers/layouts';
import { EXPORT_FIELDS, type ExportState } from '../helpers/ws';
import { formatCents, toCents } from '../../src/money';
import path from 'node:path';

const goldenPath = (format: string) => path.join(__dirname, `../fixtures/layouts/golden.${format.toLowerCase()}.txt`);
const WARNING = 'warnings { code rule field width count documents message }';
const FIELDS = `${EXPORT_FIELDS} format ${WARNING}`;
const REQUEST = `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { ${FIELDS} } }`;
const GET = `query($id: ID!) { invoiceExport(id: $id) { ${FIELDS} } }`;
const CHECK = `query($selection: InvoiceSelection!, $format: ExportFormat!) {
  accountingExportCheck(selection: $selection, format: $format) {
    entryCount lineCount totalDebit totalCredit
    problems { rule field width count documents message }
    warnings { rule field width count documents message }
  }
}`;

interface Warning { code: string; rule: string | null; field: string | null; width: number | null; count: number; documents: string[] | null; message: string }
type State = ExportState & { format: string; warnings: Warning[] | null };

let app: TestApp;
let worker: RunningWorker;
let ds: DataSource;
let golden: string;

const admin = (t: string) => app.token(t, [Role.ADMIN]);
const accountant = (t: string) => app.token(t, [Role.ACCOUNTANT]);

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

async function waitFinal(t: string, id: string): Promise<State> {
  for (let i = 0; i < 1800; i++) {
    const e = (await app.gql(GET, { id }, accountant(t))).data?.invoiceExport as State;
    if (['COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED'].includes(e.status)) return e;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`export ${id} did not finish`);
}

const request = (t: string, input: Record<string, unknown>) => app.gql(REQUEST, { input }, accountant(t));

async function runExport(t: string, input: Record<string, unknown>): Promise<State> {
  const res = await request(t, input);
  expect(res.errors).toBeUndefined();
  return waitFinal(t, res.data.requestInvoiceExport.id);
}

async function exportsOf(t: string): Promise<number> {
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1`, [t]);
  return n;
}

const settings = (t: string, input: Record<string, unknown>) =>
  app.gql(`mutation($input: AccountingSettingsInput!) { updateAccountingSettings(input: $input) { accountingSoftware } }`, { input }, admin(t));

beforeAll(async () => {
  app = await startTestApp({ role: 'api' });
  ds = app.running.services.dataSource;
  worker = await startWorker(app.running.services);

  golden = await createTenant(ds, 'École de musique Les Layouts');
  const payers: Record<string, string> = {};
  for (const [key, p] of Object.entries(GOLDEN_PAYERS)) payers[key] = await createPayer(ds, golden, p);
  for (const d of GOLDEN_DOCUMENTS) {
    await createInvoice(ds, golden, {
      number: d.number, type: d.type, billingDate: d.billingDate, payerId: payers[d.payer],
      lines: d.lines.map((l) => ({ label: l.label, unitPrice: l.unitPrice, vatRate: l.vatRate, accountingAccount: l.accountingAccount })),
    });
  }
  const res = await settings(golden, { accountLabels: Object.entries(GOLDEN_ACCOUNT_LABELS).map(([account, label]) => ({ account, label })) });
  expect(res.errors).toBeUndefined();
}, 120_000);

afterAll(async () => {
  await worker?.close(1000);
  await app?.stop();
});

describe.each(LAYOUT_FORMATS)('%s through the real pipeline', (format) => {
  let final: State;
  let file: Buffer;
  beforeAll(async () => {
    final = await runExport(golden, { kind: 'ACCOUNTING_ENTRIES', format, selection: { filter: {} } });
    file = await download(final.downloadUrl!);
  }, 60_000);

  it('completes with the bytes of the golden file, under the name the program expects', () => {
    expect(final.status).toBe('COMPLETED');
    expect(final.format).toBe(format);
    expect(final.fileName).toMatch(format === 'XIMPORT' ? /^XIMPORT\.TXT$/ : /^ecritures-comptables_\d{8}-\d{4}\.txt$/);
    expect(file.equals(readFileSync(goldenPath(format)))).toBe(true);
  });

  it('the pre-flight check of the same selection agrees with the file and the export', async () => {
    const res = await app.gql(CHECK, { selection: { filter: {} }, format }, accountant(golden));
    expect(res.errors).toBeUndefined();
    const check = res.data.accountingExportCheck;
    const read = balanceOf(readLayoutFile(format, file).lines);
    expect(check).toMatchObject({
      entryCount: read.entries, lineCount: read.lines, totalDebit: formatCents(read.debit), totalCredit: formatCents(read.credit), problems: [],
    });
    const shortened = (final.warnings ?? []).filter((w) => w.code === 'LABEL_SHORTENED');
    expect(check.warnings.map((w: Warning) => [w.rule, w.field, w.width, w.count, w.documents]))
      .toEqual(shortened.map((w) => [w.rule, w.field, w.width, w.count, w.documents]));
    if (format !== 'CEGID') expect(shortened.length).toBeGreaterThan(0); // the golden selection has labels longer than every width
  });
});

describe('formats, defaults and the other kinds', () => {
  it("the tenant's accountingSoftware is the default format of the accounting export, and only of it", async () => {
    const t = await createTenant(ds, uniqueName('software'));
    const p = await createPayer(ds, t, { customerIdentifier: '000001' });
    const id = await createInvoice(ds, t, { number: 'F1', billingDate: '2025-01-10', payerId: p, lines: [{ unitPrice: '10.00' }] });
    expect((await settings(t, { accountingSoftware: 'EBP' })).data.updateAccountingSettings.accountingSoftware).toBe('EBP');
    const e = await runExport(t, { kind: 'ACCOUNTING_ENTRIES', selection: { invoiceIds: [id] } });
    expect(e.format).toBe('EBP');
    expect((await download(e.downloadUrl!)).toString('latin1')).toBe('1,10012025,VT,000001,,"Facture F1 BUSSON Marie","F1",10.00,D,10012025,\r\n2,10012025,VT,706000,,"Cours individuel de piano 30 min","F1",10.00,C,10012025,\r\n');
    for (const kind of ['INVOICES', 'INVOICE_LINES']) {
      for (const format of LAYOUT_FORMATS) {
        const res = await request(t, { kind, format, selection: { invoiceIds: [id] } });
        expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      }
      const res = await request(t, { kind, selection: { invoiceIds: [id] } });
      expect(res.data.requestInvoiceExport.format).toBe('XLSX');
      await waitFinal(t, res.data.requestInvoiceExport.id);
    }
    const bad = await settings(t, { accountingSoftware: 'XLSX' });
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('identifiers that do not fit', () => {
  it('refuse the request before anything is recorded, with extensions.problems; the check says the same', async () => {
    const t = await createTenant(ds, uniqueName('too-long'));
    const p = await createPayer(ds, t, { customerIdentifier: 'CLIENT-0001' });
    const ok = await createPayer(ds, t, { customerIdentifier: '0002' });
    for (let i = 1; i <= 23; i++) await createInvoice(ds, t, { number: `F${String(i).padStart(3, '0')}`, billingDate: '2025-01-10', payerId: p, lines: [{ unitPrice: '10.00' }] });
    await createInvoice(ds, t, { number: 'F999', billingDate: '2025-01-11', payerId: ok, lines: [{ unitPrice: '10.00' }] });
    const res = await request(t, { kind: 'ACCOUNTING_ENTRIES', format: 'QUADRA', selection: { filter: {} } });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const expected = { rule: 'AUXILIARY_TOO_LONG', field: 'CompAuxNum', width: 8, count: 23, documents: Array.from({ length: 20 }, (_, i) => `F${String(i + 1).padStart(3, '0')}`) };
    expect(res.errors?.[0].extensions?.problems).toEqual([expected]);
    expect(res.errors?.[0].message).toContain('AUXILIARY_TOO_LONG : CompAuxNum dépasse 8 caractères (23 documents : F001, F002');
    expect(await exportsOf(t)).toBe(0);

    const check = (await app.gql(CHECK, { selection: { filter: {} }, format: 'QUADRA' }, accountant(t))).data.accountingExportCheck;
    expect(check.problems).toEqual([{ ...expected, message: expect.stringContaining('AUXILIARY_TOO_LONG') }]);
    expect(check.entryCount).toBe(24);
    // XIMPORT's field is 11 wide: the same selection is fine there.
    const ximport = await runExport(t, { kind: 'ACCOUNTING_ENTRIES', format: 'XIMPORT', selection: { filter: {} } });
    expect(ximport.status).toBe('COMPLETED');
    // A VIEWER may not run the check.
    const viewer = await app.gql(CHECK, { selection: { filter: {} }, format: 'QUADRA' }, app.token(t, [Role.VIEWER]));
    expect(viewer.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('found only while streaming (the data changed after the request): the export fails with the rule, no file, no transfer marks', async () => {
    const t = await createTenant(ds, uniqueName('changed'));
    const p = await createPayer(ds, t, { customerIdentifier: '0001' });
    const id = await createInvoice(ds, t, { number: 'F1', billingDate: '2025-01-10', payerId: p, lines: [{ unitPrice: '10.00' }] });
    await worker.pause();
    let exportId: string;
    try {
      const res = await request(t, { kind: 'ACCOUNTING_ENTRIES', format: 'XIMPORT', selection: { invoiceIds: [id] } });
      expect(res.errors).toBeUndefined();
      exportId = res.data.requestInvoiceExport.id;
      await ds.query(`UPDATE payers SET customer_identifier = 'ÉLÈVE-000001' WHERE id = $1`, [p]);
    } finally {
      worker.resume();
    }
    const final = await waitFinal(t, exportId!);
    expect(final.status).toBe('FAILED');
    expect(final.error?.code).toBe('AUXILIARY_TOO_LONG');
    expect(final.error?.message).toContain('AUXILIARY_TOO_LONG : CompAuxNum dépasse 11 caractères (1 document : F1)');
    expect(final.downloadUrl).toBeNull();
    const [row] = await ds.query(`SELECT file_key, file_size FROM invoice_exports WHERE id = $1`, [exportId!]);
    expect(row).toEqual({ file_key: null, file_size: null });
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM accounting_transfers WHERE tenant_id = $1`, [t]);
    expect(n).toBe(0);
  });

  it('the check also reports what every accounting export refuses: a VAT rate without account, an unbalanced entry', async () => {
    const t = await createTenant(ds, uniqueName('check-fec'));
    const p = await createPayer(ds, t, { customerIdentifier: '0001' });
    await createInvoice(ds, t, { number: 'F1', billingDate: '2025-01-10', payerId: p, lines: [{ unitPrice: '10.00', vatRate: '8.50' }] });
    const bad = await createInvoice(ds, t, { number: 'F2', billingDate: '2025-01-11', payerId: p, lines: [{ unitPrice: '10.00' }] });
    await createInvoice(ds, t, { number: 'F3', billingDate: '2025-01-12', payerId: p, lines: [{ unitPrice: '12.00' }] });
    await ds.query(`UPDATE invoices SET amount_due = 11.00 WHERE id = $1`, [bad]);
    const check = (await app.gql(CHECK, { selection: { filter: {} }, format: 'FEC' }, accountant(t))).data.accountingExportCheck;
    expect(check.problems.map((p: Warning) => [p.rule, p.field, p.count, p.documents])).toEqual([
      ['VAT_ACCOUNT_MISSING', 'vatAccounts["8.50"]', 1, ['F1']],
      ['UNBALANCED_ENTRIES', null, 1, ['F2']],
    ]);
    expect(check).toMatchObject({ entryCount: 3, lineCount: 2, totalDebit: '12.00', totalCredit: '12.00' });
  });
});

describe('the request-time check: aggregate queries in PostgreSQL, the problems of the pre-flight check', () => {
  type Problem = { rule: string; field: string | null; width: number | null; count: number; documents: string[]; message: string };
  const ALL = { filter: {} };
  const ruleSet = (problems: Problem[]) => problems.map((p) => `${p.rule}:${p.field}`).sort();

  async function auditsOf(t: string): Promise<number> {
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1`, [t]);
    return n;
  }

  /** The request is refused with exactly the pre-flight check's problems (items, order, message), and nothing is recorded. */
  async function refusedAsChecked(t: string, format: string, selection: Record<string, unknown> = ALL): Promise<Problem[]> {
    const checked = await app.gql(CHECK, { selection, format }, accountant(t));
    expect(checked.errors).toBeUndefined();
    const problems: Problem[] = checked.data.accountingExportCheck.problems;
    expect(problems.length).toBeGreaterThan(0);
    const [exports, audits] = [await exportsOf(t), await auditsOf(t)];
    const res = await request(t, { kind: 'ACCOUNTING_ENTRIES', format, selection });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].extensions?.problems).toEqual(problems.map(({ message, ...p }) => p));
    expect(res.errors?.[0].message).toBe(`The ${format} file cannot be written: ${problems.map((p) => p.message).join(' ; ')}`);
    expect(res.data).toBeNull();
    expect([await exportsOf(t), await auditsOf(t)]).toEqual([exports, audits]);
    return problems;
  }

  async function setSettings(t: string, input: Record<string, unknown>) {
    const res = await settings(t, input);
    expect(res.errors).toBeUndefined();
  }

  /** Documents of the data tenant by key (number → id). */
  const doc: Record<string, string> = {};
  let data: string;
  beforeAll(async () => {
    data = await createTenant(ds, uniqueName('sql-check-data'));
    const payers: Record<string, string> = {};
    const identifiers: Record<string, string | null> = {
      long11: 'CLIENT-0001', long17: 'CLIENT-000000-XYZ', none: null, empty: '', accent: 'ÉLÈVE-7', accentLong: 'ÉLÈVE-0000012',
      polish: 'ŁUKASZ-1', comma: 'CL,12', semi: 'CL;12', tab: 'CL\t12', spaces: '  CL13  ', ok: '0002',
    };
    for (const [key, customerIdentifier] of Object.entries(identifiers)) payers[key] = await createPayer(ds, data, { customerIdentifier, lastName: key.toUpperCase() });
    const add = async (number: string, billingDate: string, payer: string, lines: { unitPrice: string; accountingAccount?: string; vatRate?: string }[], type = InvoiceType.INVOICE) => {
      doc[number] = await createInvoice(ds, data, { number, billingDate, payerId: payers[payer], type, lines });
    };
    const ten = [{ unitPrice: '10.00' }];
    // 23 documents of a customer identifier too long for QUADRA: more than 20 offenders.
    for (let i = 1; i <= 23; i++) await add(`F${String(i).padStart(3, '0')}`, '2025-01-10', 'long11', ten);
    await add('F-2025-0000001', '2025-01-11', 'ok', ten);
    await add('FACTURE-2025-000000002', '2025-01-11', 'long17', ten);
    await add('AVOIR-2025-00003', '2025-01-12', 'accent', [{ unitPrice: '-10.00' }], InvoiceType.CREDIT_NOTE);
    await add('Fé4', '2025-01-12', 'accentLong', ten);
    await add('F"5', '2025-01-13', 'comma', ten);
    await add('F;6', '2025-01-13', 'semi', ten);
    await add('FŁ7', '2025-01-14', 'polish', ten);
    await add('F\t8', '2025-01-14', 'tab', ten);
    await add('F\u00a09', '2025-01-15', 'spaces', ten);
    await add(' F10 ', '2025-01-15', 'none', ten);
    await add('FACTURE-ÉTÉ-1', '2025-01-16', 'empty', ten); // 13 characters, 15 bytes of UTF-8: SAGE100 counts characters
    await add('FACTURE-ÉTÉ-12', '2025-01-16', 'ok', ten);
    await add('F14', '2025-01-17', 'ok', [{ unitPrice: '10.00', accountingAccount: '706000000' }]);
    await add('F15', '2025-01-17', 'ok', [{ unitPrice: '10.00', accountingAccount: '706 100 000 000' }]);
    await add('F16', '2025-01-18', 'ok', [{ unitPrice: '10.00', accountingAccount: '7061000000000000' }]);
    // Fine: upper-cased, a no-break space removed, a zero line's account never written.
    await add('F17', '2025-01-18', 'ok', [{ unitPrice: '10.00', accountingAccount: '706abc' }, { unitPrice: '5.00', accountingAccount: '706\u00a0100' }, { unitPrice: '0.00', accountingAccount: 'XX-1' }]);
    await add('F18', '2025-01-19', 'ok', [{ unitPrice: '10.00', accountingAccount: '706\u00a0100\u00a0000\u00a0000' }]);
    // Refused entries (INVALID_ACCOUNT, UNBALANCED_ENTRIES): their identifiers are not checked.
    await add('FACTURE-INVALID-19', '2025-01-19', 'long17', [{ unitPrice: '10.00', accountingAccount: '706-100' }]);
    await add('F20', '2025-01-20', 'ok', [{ unitPrice: '10.00', accountingAccount: 'é706' }]);
    await add('FACTURE-UNBALANCED-21', '2025-01-20', 'long17', ten);
    await ds.query(`UPDATE invoices SET amount_due = amount_due + 1 WHERE id = $1`, [doc['FACTURE-UNBALANCED-21']]);
    await add('AV22', '2025-01-21', 'tab', [{ unitPrice: '-10.00', accountingAccount: '7061000000000000' }], InvoiceType.CREDIT_NOTE);
    await add('F23-VAT', '2025-01-21', 'ok', [{ unitPrice: '12.00', vatRate: '20.00' }]);
  });

  const DATA_RULES: Record<string, string[]> = {
    QUADRA: ['INVALID_ACCOUNT:CompteNum', 'UNBALANCED_ENTRIES:null', 'AUXILIARY_TOO_LONG:CompAuxNum', 'PIECE_REF_TOO_LONG:PieceRef',
      'IDENTIFIER_NOT_ENCODABLE:CompAuxNum', 'IDENTIFIER_NOT_ENCODABLE:PieceRef', 'ACCOUNT_TOO_LONG:CompteNum'],
    XIMPORT: ['INVALID_ACCOUNT:CompteNum', 'UNBALANCED_ENTRIES:null', 'AUXILIARY_TOO_LONG:CompAuxNum', 'PIECE_REF_TOO_LONG:PieceRef',
      'IDENTIFIER_NOT_ENCODABLE:CompAuxNum', 'IDENTIFIER_NOT_ENCODABLE:PieceRef', 'ACCOUNT_TOO_LONG:CompteNum'],
    EBP: ['INVALID_ACCOUNT:CompteNum', 'UNBALANCED_ENTRIES:null', 'AUXILIARY_TOO_LONG:CompAuxNum', 'PIECE_REF_TOO_LONG:PieceRef',
      'IDENTIFIER_NOT_ENCODABLE:CompAuxNum', 'IDENTIFIER_NOT_ENCODABLE:PieceRef', 'ACCOUNT_TOO_LONG:CompteNum'],
    CEGID: ['INVALID_ACCOUNT:CompteNum', 'UNBALANCED_ENTRIES:null', 'IDENTIFIER_NOT_ENCODABLE:CompAuxNum', 'IDENTIFIER_NOT_ENCODABLE:PieceRef'],
    SAGE100: ['INVALID_ACCOUNT:CompteNum', 'UNBALANCED_ENTRIES:null', 'PIECE_REF_TOO_LONG:PieceRef', 'IDENTIFIER_NOT_ENCODABLE:CompAuxNum', 'IDENTIFIER_NOT_ENCODABLE:PieceRef'],
  };

  it.each(LAYOUT_FORMATS)('%s: identifiers of the data (numbers, customer identifiers, billing lines’ accounts) refused as the check finds them', async (format) => {
    const problems = await refusedAsChecked(data, format);
    expect(ruleSet(problems)).toEqual([...DATA_RULES[format]].sort());
    // The refused entries come first; their documents are not checked for identifiers.
    expect(problems.slice(0, 2).map((p) => [p.rule, p.documents])).toEqual([['INVALID_ACCOUNT', ['FACTURE-INVALID-19', 'F20']], ['UNBALANCED_ENTRIES', ['FACTURE-UNBALANCED-21']]]);
    expect(problems.flatMap((p) => p.documents).filter((d) => d === 'FACTURE-INVALID-19' || d === 'FACTURE-UNBALANCED-21')).toHaveLength(2);
    if (format === 'QUADRA') {
      expect(problems.find((p) => p.rule === 'AUXILIARY_TOO_LONG')).toMatchObject({ width: 8, count: 24, documents: [...Array.from({ length: 20 }, (_, i) => `F${String(i + 1).padStart(3, '0')}`)] });
      expect(problems.find((p) => p.rule === 'PIECE_REF_TOO_LONG')!.documents).toContain('AVOIR-2025-00003'); // a credit note
    }
    if (format === 'SAGE100') expect(problems.find((p) => p.rule === 'PIECE_REF_TOO_LONG')!.documents).toEqual(['F-2025-0000001', 'FACTURE-2025-000000002', 'AVOIR-2025-00003', 'FACTURE-ÉTÉ-12']);
    if (format === 'EBP') expect(problems.find((p) => p.rule === 'ACCOUNT_TOO_LONG')).toMatchObject({ width: 15, documents: ['F16', 'AV22'] });
  });

  it.each(LAYOUT_FORMATS)('%s: the same on selections by ids, by a filter with unticked rows, and on credit notes only', async (format) => {
    await refusedAsChecked(data, format, { invoiceIds: [doc['AV22'], doc['F\t8'], doc['FACTURE-2025-000000002'], doc['F001']] });
    await refusedAsChecked(data, format, { filter: { billingDateFrom: '2025-01-11' }, excludedInvoiceIds: [doc['FACTURE-INVALID-19'], doc['F20']] });
    const creditNotes = await refusedAsChecked(data, format, { filter: { types: ['CREDIT_NOTE'] } });
    expect(creditNotes.flatMap((p) => p.documents).every((d) => d === 'AVOIR-2025-00003' || d === 'AV22')).toBe(true);
  });

  it.each(LAYOUT_FORMATS)('%s: identifiers of the settings (journal, receivable, default revenue, VAT and fallback accounts)', async (format) => {
    const t = await createTenant(ds, uniqueName('sql-check-settings'));
    await setSettings(t, {
      journalCode: 'VENTES', receivableAccount: '41100000000', defaultRevenueAccount: '7060000000000000', fallbackAuxiliaryAccount: 'DIVERSCLIENTS',
      vatAccounts: [{ rate: '20.00', account: '445710000' }, { rate: '5.50', account: '4457110000000' }, { rate: '10.00', account: '445712' }, { rate: '100.00', account: '445799' }],
    });
    const p: Record<string, string> = {};
    for (const id of ['C1', 'C2', 'C3', 'DIVERSCLIENTS']) p[id] = await createPayer(ds, t, { customerIdentifier: id });
    p.none = await createPayer(ds, t, { customerIdentifier: null });
    const add = (number: string, billingDate: string, payer: string, lines: { unitPrice: string; accountingAccount?: string | null; vatRate?: string }[], type = InvoiceType.INVOICE) =>
      createInvoice(ds, t, { number, billingDate, payerId: p[payer], type, lines });
    await add('B01', '2025-02-01', 'C2', [{ unitPrice: '10.00', accountingAccount: '706-1' }]); // refused: C2's customer record comes with B04
    await add('B02', '2025-02-01', 'C1', [{ unitPrice: '10.00' }, { unitPrice: '12.00', vatRate: '20.00', accountingAccount: '706100' }]);
    await add('B03', '2025-02-02', 'C1', [{ unitPrice: '10.00', accountingAccount: '706100' }]);
    await add('B04', '2025-02-02', 'C2', [{ unitPrice: '10.00', accountingAccount: '706100' }]);
    await add('B05', '2025-02-03', 'none', []);
    await add('B06', '2025-02-03', 'DIVERSCLIENTS', [{ unitPrice: '10.00', accountingAccount: '706100' }]); // the fallback's name: no customer record
    await add('B07', '2025-02-04', 'C3', [{ unitPrice: '0.01', vatRate: '5.50', accountingAccount: '706100' }]); // VAT 0.00: no VAT line
    await add('B08', '2025-02-04', 'C3', [{ unitPrice: '10.00', vatRate: '20.00', accountingAccount: '706100' }, { unitPrice: '-10.00', vatRate: '20.00', accountingAccount: '706100' }]);
    await add('B09', '2025-02-05', 'C3', [{ unitPrice: '10.00', vatRate: '5.50', accountingAccount: '706100' }]);
    await add('BA10', '2025-02-05', 'none', [{ unitPrice: '-10.00' }], InvoiceType.CREDIT_NOTE);
    for (let i = 11; i <= 22; i++) await add(`B${i}`, '2025-02-06', 'C1', [{ unitPrice: '10.00', accountingAccount: '706100' }]);
    // 0.01 at 100 %: all VAT, no revenue line, so its account (not one) is never written.
    await add('B23', '2025-02-07', 'C1', [{ unitPrice: '0.01', vatRate: '100.00', accountingAccount: '706-X' }, { unitPrice: '10.00', accountingAccount: '706100' }]);

    const problems = await refusedAsChecked(t, format);
    const expected: Record<string, string[]> = {
      QUADRA: ['INVALID_ACCOUNT:CompteNum', 'JOURNAL_CODE_TOO_LONG:JournalCode', 'AUXILIARY_TOO_LONG:CompAuxNum', 'ACCOUNT_TOO_LONG:CompteNum'],
      XIMPORT: ['INVALID_ACCOUNT:CompteNum', 'JOURNAL_CODE_TOO_LONG:JournalCode', 'AUXILIARY_TOO_LONG:CompAuxNum', 'ACCOUNT_TOO_LONG:CompteNum'],
      EBP: ['INVALID_ACCOUNT:CompteNum', 'JOURNAL_CODE_TOO_LONG:JournalCode', 'ACCOUNT_TOO_LONG:CompteNum'],
      CEGID: ['INVALID_ACCOUNT:CompteNum'],
      SAGE100: ['INVALID_ACCOUNT:CompteNum'],
    };
    expect(ruleSet(problems)).toEqual([...expected[format]].sort());
    expect(problems[0]).toMatchObject({ rule: 'INVALID_ACCOUNT', documents: ['B01'] });
    if (format === 'QUADRA') {
      // Every written entry has the journal; CompteNum: the default account (B02, BA10), VAT lines (B02, B09), the customer records (B02 for C1, B04, B07).
      expect(problems.find((x) => x.rule === 'JOURNAL_CODE_TOO_LONG')).toMatchObject({ count: 22, documents: ['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B09', 'BA10', ...Array.from({ length: 11 }, (_, i) => `B${i + 11}`)] });
      expect(problems.find((x) => x.rule === 'ACCOUNT_TOO_LONG')).toMatchObject({ count: 5, documents: ['B02', 'B04', 'B07', 'B09', 'BA10'] });
      expect(problems.find((x) => x.rule === 'AUXILIARY_TOO_LONG')).toMatchObject({ count: 3, documents: ['B05', 'B06', 'BA10'] });
    }
    if (format === 'XIMPORT') expect(problems.find((x) => x.rule === 'ACCOUNT_TOO_LONG')).toMatchObject({ count: 3, documents: ['B02', 'B09', 'BA10'] });
  });

  it.each(LAYOUT_FORMATS)('%s: settings that no layout could write (stored by another tool), and no fallback account', async (format) => {
    const t = await createTenant(ds, uniqueName('sql-check-unencodable'));
    await ds.query(
      `INSERT INTO tenant_accounting_settings (tenant_id, journal_code, receivable_account, default_revenue_account, vat_accounts, fallback_auxiliary_account)
       VALUES ($1, 'VÉ', '411É', $2, '{"20.00": "4457Ł"}', 'DIVÉRS')`,
      [t, '706\t1'],
    );
    const none = await createPayer(ds, t, { customerIdentifier: null });
    const k1 = await createPayer(ds, t, { customerIdentifier: 'K1' });
    // The default account (not encodable) before a long one, then the reverse: the order of the problems follows the first document.
    const c01 = await createInvoice(ds, t, { number: 'C01', billingDate: '2025-03-01', payerId: none, lines: [
      { unitPrice: '10.00' }, { unitPrice: '10.00', accountingAccount: '7061000000000000' }, { unitPrice: '12.00', vatRate: '20.00', accountingAccount: '706100' }] });
    const c02 = await createInvoice(ds, t, { number: 'C02', billingDate: '2025-03-02', payerId: k1, lines: [
      { unitPrice: '10.00', accountingAccount: '7061000000000000' }, { unitPrice: '10.00' }] });
    const c03 = await createInvoice(ds, t, { number: 'C03', billingDate: '2025-03-03', payerId: k1, lines: [{ unitPrice: '10.00', accountingAccount: '706100' }] });
    // VAT lines come after every revenue line: the long account of line 2 before the VAT account of line 1's rate.
    const c05 = await createInvoice(ds, t, { number: 'C05', billingDate: '2025-03-05', payerId: none, lines: [
      { unitPrice: '12.00', vatRate: '20.00', accountingAccount: '706100' }, { unitPrice: '10.00', accountingAccount: '7061000000000000' }] });
    const all = await refusedAsChecked(t, format);
    expect(all.some((x) => x.rule === 'IDENTIFIER_NOT_ENCODABLE' && x.field === 'CompteNum')).toBe(true);
    await refusedAsChecked(t, format, { invoiceIds: [c02] });
    await refusedAsChecked(t, format, { invoiceIds: [c01, c02] });
    if (format !== 'SAGE100') { // UTF-8 and no width: nothing to refuse in C05
      const vatLast = await refusedAsChecked(t, format, { invoiceIds: [c05] });
      if (format === 'XIMPORT') expect(vatLast.map((x) => x.rule)).toEqual(['ACCOUNT_TOO_LONG', 'IDENTIFIER_NOT_ENCODABLE']);
    }

    // Without a fallback account, a payer without identifier has the receivable account written in its place (QUADRA, XIMPORT, EBP).
    await ds.query(`UPDATE tenant_accounting_settings SET journal_code = 'VT', receivable_account = '411000000000', default_revenue_account = '706000', vat_accounts = '{"20.00": "445710"}', fallback_auxiliary_account = '' WHERE tenant_id = $1`, [t]);
    const c04 = await createInvoice(ds, t, { number: 'C04', billingDate: '2025-03-04', payerId: none, lines: [{ unitPrice: '10.00', accountingAccount: '706100' }] });
    const selection = { invoiceIds: [c03, c04] };
    if (format === 'CEGID' || format === 'SAGE100' || format === 'EBP') {
      const ok = await request(t, { kind: 'ACCOUNTING_ENTRIES', format, selection });
      expect(ok.errors).toBeUndefined();
      expect((await waitFinal(t, ok.data.requestInvoiceExport.id)).status).toBe('COMPLETED');
    } else {
      const problems = await refusedAsChecked(t, format, selection);
      // QUADRA also writes the receivable account in K1's customer record (C03, its first document here).
      expect(problems.map((x) => [x.rule, x.field, x.documents])).toEqual(format === 'QUADRA'
        ? [['ACCOUNT_TOO_LONG', 'CompteNum', ['C03', 'C04']]]
        : [['ACCOUNT_TOO_LONG', 'CompteNum', ['C04']]]);
    }
  });

  it.each(['QUADRA', 'XIMPORT'] as const)('%s: ENTRY_NUMBER_TOO_LONG, with the digits of the layout (made 1 here), refused entries numbered too', async (format) => {
    const t = await createTenant(ds, uniqueName('sql-check-entry-number'));
    const p = await createPayer(ds, t, { customerIdentifier: '0001' });
    for (let i = 1; i <= 12; i++) {
      await createInvoice(ds, t, { number: `E${String(i).padStart(2, '0')}`, billingDate: '2025-04-01', payerId: p, lines: [{ unitPrice: '10.00', accountingAccount: i === 11 ? '706.1' : null }] });
    }
    const ids = importLayout(format as ExportFormat)!.identifiers as { entryNumberDigits: number | null };
    const digits = ids.entryNumberDigits;
    ids.entryNumberDigits = 1;
    try {
      const problems = await refusedAsChecked(t, format);
      expect(problems.map(({ message, ...x }) => x)).toEqual([
        { rule: 'INVALID_ACCOUNT', field: 'CompteNum', width: null, count: 1, documents: ['E11'] },
        { rule: 'ENTRY_NUMBER_TOO_LONG', field: 'EcritureNum', width: 1, count: 2, documents: ['E10', 'E12'] },
      ]);
    } finally {
      ids.entryNumberDigits = digits;
    }
  });

  it.each(LAYOUT_FORMATS)('%s: a clean selection at the limits of the narrowest layout is accepted, and the check finds nothing', async (format) => {
    const t = await createTenant(ds, uniqueName('sql-check-clean'));
    const long = await createPayer(ds, t, { customerIdentifier: 'CLI12345' });
    const spaced = await createPayer(ds, t, { customerIdentifier: '  CL13  ' });
    const none = await createPayer(ds, t, { customerIdentifier: null });
    await createInvoice(ds, t, { number: 'F123456789', billingDate: '2025-05-01', payerId: long, lines: [{ unitPrice: '10.00', accountingAccount: '70610000' }] });
    await createInvoice(ds, t, { number: ' F2 ', billingDate: '2025-05-01', payerId: spaced, lines: [
      { unitPrice: '10.00', accountingAccount: '706 100' }, { unitPrice: '5.00', accountingAccount: '706abc' }, { unitPrice: '5.00', accountingAccount: '706\u00a0100' },
      { unitPrice: '0.00', accountingAccount: 'XX-1' }, { unitPrice: '12.00', vatRate: '20.00' }] });
    await createInvoice(ds, t, { number: 'A3', type: InvoiceType.CREDIT_NOTE, billingDate: '2025-05-02', payerId: none, lines: [{ unitPrice: '-10.00' }] });
    const checked = await app.gql(CHECK, { selection: ALL, format }, accountant(t));
    expect(checked.data.accountingExportCheck.problems).toEqual([]);
    // Nothing to report: the screen's two lean queries clear it, the full query (its window over the documents) never runs.
    const seen: string[] = [];
    const original = PostgresQueryRunner.prototype.query;
    const spy = jest.spyOn(PostgresQueryRunner.prototype, 'query').mockImplementation(async function (this: PostgresQueryRunner, ...args: Parameters<typeof original>) {
      seen.push(args[0]);
      return original.apply(this, args);
    });
    let final;
    try {
      final = await runExport(t, { kind: 'ACCOUNTING_ENTRIES', format, selection: ALL });
    } finally {
      spy.mockRestore();
    }
    expect(final.status).toBe('COMPLETED');
    expect(seen.some((q) => q.includes('array_agg(DISTINCT v.account)'))).toBe(true);
    expect(seen.some((q) => q.includes('row_number() OVER (ORDER BY i.billing_date, i.number)'))).toBe(false);
  });

  it.each(['QUADRA', 'XIMPORT'] as const)('%s: AMOUNT_TOO_LARGE, a VAT total past the 13 bytes of the amount field, on the side of the VAT line; the unbounded layouts write it', async (format) => {
    const t = await createTenant(ds, uniqueName('sql-check-amount'));
    const p = await createPayer(ds, t, { customerIdentifier: '0001' });
    // numeric(12,2) holds each amount, and amount_due is 9,999,999,999.99; the 20 % VAT of seven such lines is 11,666,666,666.69.
    const huge = '9999999999.99';
    const lines = (sign: '' | '-') => [
      ...Array.from({ length: 7 }, () => ({ unitPrice: `${sign}${huge}`, vatRate: '20.00' })),
      ...Array.from({ length: 6 }, () => ({ unitPrice: `${sign === '-' ? '' : '-'}${huge}` })),
    ];
    await createInvoice(ds, t, { number: 'M1', billingDate: '2025-06-01', payerId: p, lines: lines('') });
    await createInvoice(ds, t, { number: 'M2', billingDate: '2025-06-02', payerId: p, lines: [{ unitPrice: '10.00', vatRate: '20.00' }] });
    await createInvoice(ds, t, { number: 'M3', type: InvoiceType.CREDIT_NOTE, billingDate: '2025-06-03', payerId: p, lines: lines('-') });
    const problems = await refusedAsChecked(t, format);
    expect(problems.map(({ message, ...x }) => x)).toEqual([
      { rule: 'AMOUNT_TOO_LARGE', field: 'Credit', width: 13, count: 1, documents: ['M1'] },
      { rule: 'AMOUNT_TOO_LARGE', field: 'Debit', width: 13, count: 1, documents: ['M3'] },
    ]);
    expect(problems[0].message).toBe('AMOUNT_TOO_LARGE : un montant au crédit dépasse les 13 caractères du champ montant (1 document : M1)');
    // The clean document alone goes through.
    const [m2] = await ds.query(`SELECT id FROM invoices WHERE tenant_id = $1 AND number = 'M2'`, [t]);
    expect((await runExport(t, { kind: 'ACCOUNTING_ENTRIES', format, selection: { invoiceIds: [m2.id] } })).status).toBe('COMPLETED');
    // EBP writes amounts without a width: the same selection completes.
    expect((await runExport(t, { kind: 'ACCOUNTING_ENTRIES', format: 'EBP', selection: ALL })).status).toBe('COMPLETED');
  });

  it('the VAT of a billing line in SQL is includedVatCents, to the cent', async () => {
    const amounts: string[] = [];
    const rates: string[] = [];
    for (const rate of ['0.00', '2.10', '5.50', '10.00', '20.00', '33.33', '100.00', '999.99']) {
      for (let c = -1200; c <= 1200; c += 7) {
        amounts.push(formatCents(BigInt(c)));
        rates.push(rate);
      }
      for (const c of [1n, -1n, 999_999_999_999n, -999_999_999_999n]) {
        amounts.push(formatCents(c));
        rates.push(rate);
      }
    }
    const rows: { vat: string }[] = await ds.query(
      `SELECT ${includedVatCentsSql('x.amount', 'x.rate')}::text AS vat FROM unnest($1::numeric(12,2)[], $2::numeric(5,2)[]) WITH ORDINALITY AS x(amount, rate, n) ORDER BY x.n`,
      [amounts, rates],
    );
    expect(rows.map((r) => BigInt(r.vat))).toEqual(amounts.map((a, i) => includedVatCents(toCents(a), rateHundredths(rates[i]))));
  });

  it('reads no row of the selection in the API: no cursor, a few rows answered for thousands of documents', async () => {
    const t = (await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('sql-check-rows'), invoices: 3000, ifExists: 'duplicate', analyze: true })).tenantId;
    await ds.query(
      `UPDATE invoices SET number = number || '-0000000000' WHERE id IN (SELECT id FROM invoices WHERE tenant_id = $1 ORDER BY billing_date, number OFFSET 100 LIMIT 25)`, [t]);
    const [{ documents }] = await ds.query(`SELECT count(*)::int AS documents FROM invoices WHERE tenant_id = $1`, [t]);
    const seen: { sql: string; rows: number }[] = [];
    const original = PostgresQueryRunner.prototype.query;
    const spy = jest.spyOn(PostgresQueryRunner.prototype, 'query').mockImplementation(async function (this: PostgresQueryRunner, ...args: Parameters<typeof original>) {
      const result = await original.apply(this, args);
      seen.push({ sql: args[0], rows: Array.isArray(result) ? result.length : Array.isArray(result?.records) ? result.records.length : 0 });
      return result;
    });
    let res;
    try {
      res = await request(t, { kind: 'ACCOUNTING_ENTRIES', format: 'QUADRA', selection: ALL });
    } finally {
      spy.mockRestore();
    }
    expect(res.errors?.[0].extensions?.problems).toEqual([expect.objectContaining({ rule: 'PIECE_REF_TOO_LONG', count: 25 })]);
    expect(seen.filter((q) => /\b(DECLARE|FETCH)\b/i.test(q.sql))).toEqual([]);
    expect(seen.some((q) => q.sql.includes('row_number() OVER (ORDER BY i.billing_date, i.number)'))).toBe(true);
    const rows = seen.reduce((n, q) => n + q.rows, 0);
    expect(documents).toBeGreaterThanOrEqual(3000);
    expect(rows).toBeLessThan(100);
    // The pre-flight check of the same selection agrees.
    await refusedAsChecked(t, 'QUADRA');
  }, 300_000);
});

describe("the FEC's statutory name", () => {
  async function fecOf(siren: string | null, dates: string[]) {
    const t = await createTenant(ds, uniqueName('fec-name'));
    await ds.query(`UPDATE tenants SET siren = $2 WHERE id = $1`, [t, siren]);
    const p = await createPayer(ds, t, { customerIdentifier: '0001' });
    for (const [i, d] of dates.entries()) await createInvoice(ds, t, { number: `F${i + 1}`, billingDate: d, payerId: p, lines: [{ unitPrice: '10.00' }] });
    const final = await runExport(t, { kind: 'ACCOUNTING_ENTRIES', selection: { filter: {} } });
    const check = (await app.gql(CHECK, { selection: { filter: {} }, format: 'FEC' }, accountant(t))).data.accountingExportCheck;
    return { final, check };
  }

  it('is kept within one fiscal year with a valid SIREN', async () => {
    const { final, check } = await fecOf('318257409', ['2025-01-10', '2025-12-31']);
    expect(final.fileName).toBe('318257409FEC20251231.txt');
    expect(final.warnings).toBeNull();
    expect(check.warnings).toEqual([]);
  });

  it('gives way to the dated name and SPANS_FISCAL_YEARS when the entries span fiscal years', async () => {
    const { final, check } = await fecOf('318257409', ['2024-09-10', '2024-12-31', '2025-01-01']);
    expect(final.fileName).toMatch(/^ecritures-comptables_\d{8}-\d{4}\.txt$/);
    expect(final.warnings).toEqual([expect.objectContaining({ code: 'SPANS_FISCAL_YEARS', count: 2, documents: ['F1', 'F2'] })]);
    expect(check.warnings).toEqual([expect.objectContaining({ rule: 'SPANS_FISCAL_YEARS', count: 2, documents: ['F1', 'F2'] })]);
  });

  it('gives way to the dated name and SIREN_INVALID when the SIREN fails its Luhn check', async () => {
    const { final, check } = await fecOf('123 456 789', ['2025-01-10']);
    expect(final.fileName).toMatch(/^ecritures-comptables_\d{8}-\d{4}\.txt$/);
    expect(final.warnings).toEqual([expect.objectContaining({ code: 'SIREN_INVALID' })]);
    expect(check.warnings).toEqual([expect.objectContaining({ rule: 'SIREN_INVALID' })]);
  });
});

describe('20,000 invoices through the real pipeline', () => {
  let big: string;
  beforeAll(async () => {
    big = (await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('layouts-20k'), invoices: 20_000, ifExists: 'duplicate' })).tenantId;
  }, 600_000);

  it.each(['QUADRA', 'XIMPORT'])('%s: every record has its exact length, every entry balances, the check agrees', async (format) => {
    const final = await runExport(big, { kind: 'ACCOUNTING_ENTRIES', format, selection: { filter: {} } });
    expect(final.status).toBe('COMPLETED');
    const file = await download(final.downloadUrl!);
    const read = readLayoutFile(format as ExportFormat, file); // throws on a record of another length
    expect(read.records.every((r) => r.length === (r[0] === 'C' && format === 'QUADRA' ? 453 : format === 'QUADRA' ? 231 : 142))).toBe(true);
    const balance = balanceOf(read.lines);
    const [sql] = await ds.query(`SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1`, [big]);
    expect(balance.entries).toBe(sql.n);
    expect(balance.debit).toBe(balance.credit);
    const check = (await app.gql(CHECK, { selection: { filter: {} }, format }, accountant(big))).data.accountingExportCheck;
    expect(check).toMatchObject({ entryCount: sql.n, lineCount: balance.lines, totalDebit: formatCents(balance.debit), problems: [] });
    await ds.query(`DELETE FROM accounting_transfers WHERE tenant_id = $1`, [big]);
  }, 600_000);
});
