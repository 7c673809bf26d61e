/**
 * The importer layouts end to end (docs/accounting.md, docs/accounting.md): real
 * PostgreSQL, Redis, S3. The golden selection through the real pipeline
 * gives the committed golden files byte for byte; the pre-flight check
 * agrees with the export; identifiers that do not fit are refused at
 * request time (nothing recorded) or, when the data changed since, fail
 * the export with no file; the FEC's statutory name; the record lengths of
 * a 20,000-invoice export.
 */
import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { ExportFormat, Role } from '../../src/entities/enums';
import { seedTenant } from '../../dev/seed/seed';
import { RunningWorker, startWorker } from '../../src/worker/worker';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import {
  GOLDEN_ACCOUNT_LABELS, GOLDEN_DOCUMENTS, GOLDEN_PAYERS, LAYOUT_FORMATS, balanceOf, readLayoutFile,
} from '../helpers/layouts';
import { EXPORT_FIELDS, type ExportState } from '../helpers/ws';
import { formatCents } from '../../src/money';
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
