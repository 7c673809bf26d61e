import iconv from 'iconv-lite';
import { parse } from 'csv-parse/sync';
import { DataSource } from 'typeorm';
import { InvoiceType, Role } from '../../src/entities/enums';
import { headersFor } from '../../src/exports/columns';
import { RunningWorker, startWorker } from '../../src/worker/worker';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { readXlsx } from '../helpers/files';

/**
 * Saved export profiles (docs/profiles.md) through the real pipeline: the API
 * records the profile's settings on the export, the worker writes the file,
 * and the test reads the downloaded bytes.
 */

const PROFILE_FIELDS = 'id name kind format locale columns { key header } csv { encoding separator decimalSeparator dateFormat header } fileNamePattern hasFilter';
const CREATE = `mutation($input: ExportProfileInput!) { createExportProfile(input: $input) { ${PROFILE_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: ExportProfileInput!) { updateExportProfile(id: $id, input: $input) { ${PROFILE_FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteExportProfile(id: $id) }`;
const LIST = `{ exportProfiles { ${PROFILE_FIELDS} } }`;
const REQUEST = `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { id status } }`;
const READ = `query($id: ID!) { invoiceExport(id: $id) { id status fileName downloadUrl rowCount error { code message } } }`;

let app: TestApp;
let worker: RunningWorker;
let ds: DataSource;
let tenant: string;
let other: string;
let ids: string[];

/** The accountant's "import paramétrable": six columns, Windows-1252, tab, dates ddmmyyyy. */
const ACCOUNTANT_PROFILE = {
  name: 'Cabinet Dupont',
  kind: 'INVOICES',
  format: 'CSV',
  columns: [
    { key: 'billingDate', header: 'Date' },
    { key: 'number' },
    { key: 'payer', header: 'Client' },
    { key: 'customerIdentifier' },
    { key: 'amountDue', header: 'Montant TTC' },
    { key: 'type' },
  ],
  csv: { encoding: 'WINDOWS_1252', separator: '\t', decimalSeparator: '.', dateFormat: 'ddmmyyyy', header: true },
  fileNamePattern: 'export-{tenant}-{kind}-{date}',
};

async function waitDone(id: string, token: string) {
  for (let i = 0; i < 300; i++) {
    const res = await app.gql(READ, { id }, token);
    const e = res.data?.invoiceExport;
    if (e && ['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.status)) return e;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`export ${id} did not finish`);
}

async function exportFile(input: Record<string, unknown>, token = app.token(tenant)) {
  const res = await app.gql(REQUEST, { input: { selection: { invoiceIds: ids }, ...input } }, token);
  expect(res.errors).toBeUndefined();
  const done = await waitDone(res.data.requestInvoiceExport.id, token);
  expect(done.status).toBe('COMPLETED');
  const file = await fetch(done.downloadUrl);
  expect(file.status).toBe(200);
  return { exp: done, bytes: Buffer.from(await file.arrayBuffer()), contentType: file.headers.get('content-type') };
}

beforeAll(async () => {
  app = await startTestApp({ role: 'api' });
  ds = app.running.services.dataSource;
  worker = await startWorker(app.running.services);
  tenant = await createTenant(ds, uniqueName('École Chopin'));
  other = await createTenant(ds, uniqueName('other'));
  const p1 = await createPayer(ds, tenant, { lastName: 'DVOŘÁK', firstName: 'Zoé 🎻', customerIdentifier: '000417' });
  const p2 = await createPayer(ds, tenant, { lastName: 'CŒUR', firstName: 'Œdipe', customerIdentifier: null });
  ids = [
    await createInvoice(ds, tenant, { number: 'F000002', billingDate: '2019-02-05', payerId: p2, lines: [{ unitPrice: '1234.56' }] }),
    await createInvoice(ds, tenant, { number: 'F000001', billingDate: '2019-01-25', payerId: p1, lines: [{ unitPrice: '500.00' }, { unitPrice: '0.50' }] }),
    await createInvoice(ds, tenant, { number: 'A000001', billingDate: '2019-03-01', payerId: p1, type: InvoiceType.CREDIT_NOTE, lines: [{ unitPrice: '-20.00' }] }),
  ];
});

afterAll(async () => {
  await worker?.close();
  await app?.stop();
});

describe('exportColumns', () => {
  it('lists every column of a kind with its stable key, the header of the locale and its cell type', async () => {
    const res = await app.gql(`{ fr: exportColumns(kind: INVOICES) { key header type } en: exportColumns(kind: INVOICES, locale: "en-GB") { key header } }`, {}, app.token(tenant, [Role.VIEWER]));
    expect(res.errors).toBeUndefined();
    expect(res.data.fr.map((c: { header: string }) => c.header)).toEqual(headersFor('INVOICES' as never, 'fr-FR'));
    expect(res.data.fr.slice(0, 4)).toEqual([
      { key: 'type', header: 'Type de pièce', type: 'text' },
      { key: 'number', header: 'N° de pièce', type: 'code' },
      { key: 'billingDate', header: 'Date de facturation', type: 'date' },
      { key: 'roleNumber', header: 'Numéro de rôle', type: 'integer' },
    ]);
    expect(res.data.en.find((c: { key: string }) => c.key === 'amountDue').header).toBe('Amount due');
  });
});

describe('profiles: who may do what, and refusals', () => {
  it('a VIEWER reads the profiles but may not create, change or delete one', async () => {
    const created = await app.gql(CREATE, { input: { ...ACCOUNTANT_PROFILE, name: uniqueName('lu') } }, app.token(tenant, [Role.ACCOUNTANT]));
    expect(created.errors).toBeUndefined();
    const id = created.data.createExportProfile.id;
    const viewer = app.token(tenant, [Role.VIEWER]);
    const list = await app.gql(LIST, {}, viewer);
    expect(list.data.exportProfiles.map((p: { id: string }) => p.id)).toContain(id);
    for (const [q, v] of [[CREATE, { input: { ...ACCOUNTANT_PROFILE, name: uniqueName('v') } }], [UPDATE, { id, input: ACCOUNTANT_PROFILE }], [DELETE, { id }]] as const) {
      const res = await app.gql(q, v, viewer);
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    // An ADMIN manages them too.
    const admin = app.token(tenant, [Role.ADMIN]);
    const renamed = await app.gql(UPDATE, { id, input: { ...ACCOUNTANT_PROFILE, name: uniqueName('renommé') } }, admin);
    expect(renamed.errors).toBeUndefined();
    expect((await app.gql(DELETE, { id }, admin)).data.deleteExportProfile).toBe(true);
    expect((await app.gql(DELETE, { id }, admin)).data.deleteExportProfile).toBe(false);
  });

  it('shows the chosen columns with their headers, the locale’s where none was given', async () => {
    const res = await app.gql(CREATE, { input: { ...ACCOUNTANT_PROFILE, name: uniqueName('vue') } }, app.token(tenant));
    expect(res.data.createExportProfile.columns).toEqual([
      { key: 'billingDate', header: 'Date' },
      { key: 'number', header: 'N° de pièce' },
      { key: 'payer', header: 'Client' },
      { key: 'customerIdentifier', header: 'Identifiant client' },
      { key: 'amountDue', header: 'Montant TTC' },
      { key: 'type', header: 'Type de pièce' },
    ]);
    expect(res.data.createExportProfile.csv).toEqual({ encoding: 'WINDOWS_1252', separator: '\t', decimalSeparator: '.', dateFormat: 'ddmmyyyy', header: true });
    // Without a choice: every column of the kind.
    const all = await app.gql(CREATE, { input: { name: uniqueName('tout'), kind: 'INVOICE_LINES', format: 'XLSX' } }, app.token(tenant));
    expect(all.data.createExportProfile.columns.map((c: { header: string }) => c.header)).toEqual(headersFor('INVOICE_LINES' as never, 'fr-FR'));
  });

  it.each([
    ['an unknown column key', { columns: [{ key: 'number' }, { key: 'montant' }] }, /"montant"/],
    ['a column twice', { columns: [{ key: 'number' }, { key: 'payer' }, { key: 'number' }] }, /"number" twice/],
    ['an empty choice', { columns: [] }, /empty/],
    ['a format the kind refuses', { format: 'FEC', csv: null }, /FEC/],
    ['a path in the file name', { fileNamePattern: '../../etc/{date}' }, /"\/"|\.\./],
    ['an unknown placeholder', { fileNamePattern: 'x-{user}' }, /\{user\}/],
    ['a decimal separator that also separates fields', { csv: { separator: ',', decimalSeparator: ',' } }, /decimal separator/],
    ['an unknown date format', { csv: { dateFormat: 'mm/dd/yy' } }, /mm\/dd\/yy/],
    ['CSV options on an XLSX profile', { format: 'XLSX' }, /CSV options/],
  ])('refuses %s with BAD_USER_INPUT naming it', async (_what, change, message) => {
    const before = (await ds.query('SELECT count(*)::int AS n FROM export_profiles WHERE tenant_id = $1', [tenant]))[0].n;
    const res = await app.gql(CREATE, { input: { ...ACCOUNTANT_PROFILE, name: uniqueName('refus'), ...change } }, app.token(tenant));
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toMatch(message);
    expect((await ds.query('SELECT count(*)::int AS n FROM export_profiles WHERE tenant_id = $1', [tenant]))[0].n).toBe(before);
  });

  it('refuses a name already used in the organisation (whatever its case), not in another one', async () => {
    const name = uniqueName('Comptable');
    expect((await app.gql(CREATE, { input: { ...ACCOUNTANT_PROFILE, name } }, app.token(tenant))).errors).toBeUndefined();
    const again = await app.gql(CREATE, { input: { ...ACCOUNTANT_PROFILE, name: ` ${name.toUpperCase()} ` } }, app.token(tenant));
    expect(again.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(again.errors?.[0].message).toContain('already exists');
    expect((await app.gql(CREATE, { input: { ...ACCOUNTANT_PROFILE, name } }, app.token(other))).errors).toBeUndefined();
  });

  it("another organisation's profile is not found: not listed, not changed, not deleted, not usable", async () => {
    const mine = (await app.gql(CREATE, { input: { ...ACCOUNTANT_PROFILE, name: uniqueName('privé') } }, app.token(tenant))).data.createExportProfile.id;
    const stranger = app.token(other, [Role.ADMIN]);
    expect((await app.gql(LIST, {}, stranger)).data.exportProfiles.map((p: { id: string }) => p.id)).not.toContain(mine);
    expect((await app.gql(UPDATE, { id: mine, input: ACCOUNTANT_PROFILE }, stranger)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await app.gql(DELETE, { id: mine }, stranger)).data.deleteExportProfile).toBe(false);
    const req = await app.gql(REQUEST, { input: { kind: 'INVOICES', profileId: mine, selection: { invoiceIds: ids } } }, stranger);
    expect(req.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(req.errors?.[0].message).toContain('profileId');
    const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1', [other]);
    expect(n).toBe(0);
  });
});

describe('the file an export with a profile writes', () => {
  it('has the chosen columns, headers and order, in Windows-1252, tab-separated, with ddmmyyyy dates and the chosen name', async () => {
    const profile = (await app.gql(CREATE, { input: { ...ACCOUNTANT_PROFILE, name: uniqueName('cp1252') } }, app.token(tenant))).data.createExportProfile;
    const { exp, bytes, contentType } = await exportFile({ kind: 'INVOICES', profileId: profile.id });
    expect(contentType).toContain('windows-1252');
    expect(exp.fileName).toMatch(/^export-Ecole-Chopin-[0-9a-f]{8}-factures-\d{8}\.csv$/);
    // No BOM; é is one byte (0xE9), Œ is 0x8C, ř lost its caron, the emoji became '?'.
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    expect(bytes.includes(Buffer.from([0x4e, 0xb0]))).toBe(true); // "N°"
    expect(bytes.includes(Buffer.from('DVORÁK'.replace('Á', '\xc1'), 'latin1'))).toBe(true);
    expect(bytes.includes(Buffer.from([0x8c, 0x64, 0x69, 0x70, 0x65]))).toBe(true); // "Œdipe"
    expect(bytes.includes(Buffer.from([0xc3]))).toBe(false); // nothing UTF-8 left
    const text = iconv.decode(bytes, 'windows-1252');
    const lines = text.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe(['Date', 'N° de pièce', 'Client', 'Identifiant client', 'Montant TTC', 'Type de pièce'].join('\t'));
    expect(lines.slice(1)).toEqual([
      ['25012019', 'F000001', 'DVORÁK Zoé ?', '000417', '500.50', 'facture'].join('\t'),
      ['05022019', 'F000002', 'CŒUR Œdipe', '', '1234.56', 'facture'].join('\t'),
      ['01032019', 'A000001', 'DVORÁK Zoé ?', '000417', '-20.00', 'avoir'].join('\t'),
    ]);
    expect(exp.rowCount).toBe(3);
  });

  it("an accounting profile in the accountant's importer layout (QUADRA, SAGE100…) is saved and writes that layout", async () => {
    const token = app.token(tenant);
    for (const format of ['QUADRA', 'XIMPORT', 'EBP', 'CEGID', 'SAGE100']) {
      const res = await app.gql(CREATE, { input: { name: uniqueName(`logiciel ${format}`), kind: 'ACCOUNTING_ENTRIES', format } }, token);
      expect(res.errors).toBeUndefined();
      expect(res.data.createExportProfile).toMatchObject({ kind: 'ACCOUNTING_ENTRIES', format });
    }
    const quadra = (await app.gql(LIST, {}, token)).data.exportProfiles.find((p: { format: string }) => p.format === 'QUADRA');
    const { exp, bytes } = await exportFile({ kind: 'ACCOUNTING_ENTRIES', profileId: quadra.id });
    // Quadra's ASCII fixed-width records: an M record per entry line, 231 bytes + CR LF; a C record per customer.
    const records = bytes.toString('latin1').split('\r\n').filter(Boolean);
    expect(records.filter((r) => r[0] === 'M').every((r) => r.length === 231)).toBe(true);
    expect(records.some((r) => r[0] === 'C')).toBe(true);
    expect(exp.fileName).toMatch(/\.txt$/);
    await ds.query(`DELETE FROM accounting_transfers WHERE tenant_id = $1`, [tenant]);
  });

  it('keeps the settings the profile had when the export was requested, not a later edit', async () => {
    const token = app.token(tenant);
    const profile = (await app.gql(CREATE, { input: { ...ACCOUNTANT_PROFILE, name: uniqueName('figé') } }, token)).data.createExportProfile;
    await worker.pause();
    let id: string;
    try {
      const res = await app.gql(REQUEST, { input: { kind: 'INVOICES', profileId: profile.id, selection: { invoiceIds: ids } } }, token);
      expect(res.errors).toBeUndefined();
      id = res.data.requestInvoiceExport.id;
      const edited = await app.gql(UPDATE, { id: profile.id, input: { ...ACCOUNTANT_PROFILE, name: profile.name, columns: [{ key: 'number' }], csv: { separator: ';' } } }, token);
      expect(edited.errors).toBeUndefined();
    } finally {
      worker.resume();
    }
    const done = await waitDone(id!, token);
    const text = iconv.decode(Buffer.from(await (await fetch(done.downloadUrl)).arrayBuffer()), 'windows-1252');
    expect(text.split('\r\n')[0].split('\t')).toHaveLength(6);
    // The next export takes the edited profile.
    const next = await exportFile({ kind: 'INVOICES', profileId: profile.id });
    expect(next.bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true);
    expect(next.bytes.toString('utf8').slice(1).split('\r\n')[0]).toBe('N° de pièce');
  });

  it('writes no header line when asked, still with the BOM of UTF-8, and comma/point as chosen', async () => {
    const { bytes } = await exportFile({
      kind: 'INVOICES',
      format: 'CSV',
      columns: [{ key: 'number' }, { key: 'billingDate' }, { key: 'remainingDue' }],
      csv: { separator: ',', decimalSeparator: '.', dateFormat: 'yyyymmdd', header: false },
    });
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true);
    const rows: string[][] = parse(bytes, { bom: true, delimiter: ',' });
    expect(rows).toEqual([
      ['F000001', '20190125', '500.50'],
      ['F000002', '20190205', '1234.56'],
      ['A000001', '20190301', '0.00'],
    ]);
  });

  it('refuses an inline choice naming a column the kind does not have, and enqueues nothing', async () => {
    const [{ n: before }] = await ds.query('SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1', [tenant]);
    const res = await app.gql(REQUEST, { input: { kind: 'INVOICE_LINES', format: 'CSV', columns: [{ key: 'label' }, { key: 'amountDue' }], selection: { invoiceIds: ids } } }, app.token(tenant));
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('"amountDue"');
    const [{ n: after }] = await ds.query('SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1', [tenant]);
    expect(after).toBe(before);
  });

  it('XLSX: the chosen columns and headers, typed cells, widths for the header, the Résumé unchanged', async () => {
    const profile = (await app.gql(CREATE, {
      input: { name: uniqueName('xlsx'), kind: 'INVOICES', format: 'XLSX', columns: [{ key: 'amountDue', header: 'Montant TTC de la pièce' }, { key: 'billingDate' }, { key: 'number' }] },
    }, app.token(tenant))).data.createExportProfile;
    const { bytes } = await exportFile({ kind: 'INVOICES', profileId: profile.id });
    const { workbook, sheets } = await readXlsx(bytes);
    expect(sheets.map((s) => s.name)).toEqual(['Factures et avoirs', 'Résumé']);
    expect(sheets[0].header).toEqual(['Montant TTC de la pièce', 'Date de facturation', 'N° de pièce']);
    const first = sheets[0].rows[0];
    expect(first.getCell(1).value).toBe(500.5);
    expect(first.getCell(2).value).toEqual(new Date(Date.UTC(2019, 0, 25)));
    expect(first.getCell(3).value).toBe('F000001');
    expect(workbook.worksheets[0].getColumn(1).width).toBeGreaterThanOrEqual('Montant TTC de la pièce'.length);
    const summary = sheets[1].rows.map((r) => [r.getCell(1).value, r.getCell(2).value]);
    expect(summary).toEqual(expect.arrayContaining([['Total dû', 1715.06]]));
  });
});
