import ExcelJS from 'exceljs';
import { DataSource } from 'typeorm';
import { Role } from '../../src/entities/enums';
import { headersFor } from '../../src/exports/columns';
import { seedTenant } from '../../dev/seed/seed';
import { RunningWorker, startWorker } from '../../src/worker/worker';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { FR_HEADERS, MONEY_SQL, cellCents, csvCents, readCsv, readXlsx } from '../helpers/files';
import { EXPORT_FIELDS, ExportState, followExport, wsClient } from '../helpers/ws';

const REQUEST = `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { ${EXPORT_FIELDS} } }`;
const NASTY = {
  semicolonName: 'DUPRÉ; dit "Le Grand"',
  multiline: 'Ligne 1\nLigne 2\r\nLigne 3',
  emoji: 'Zoé 🎻🎹',
  hyperlink: '=HYPERLINK("http://evil.example","clic")',
  phone: '+33 6 12 34 56 78',
  minus: '-2+3',
  at: '@SUM(A1:A2)',
  tab: '\tindent',
  longNote: 'é'.repeat(2500) + 'x;"\n'.repeat(625),
};

let app: TestApp;
let worker: RunningWorker;
let ds: DataSource;
let seeded: string;
let nasty: string;
let nastyIds: string[];

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

async function sqlTotals(kind: 'INVOICES' | 'INVOICE_LINES', tenantId: string, ids?: string[]) {
  const cols = MONEY_SQL[kind];
  const from = kind === 'INVOICES' ? 'invoices i' : 'invoices i JOIN invoice_lines l ON l.invoice_id = i.id';
  const where = `i.tenant_id = $1${ids ? ' AND i.id = ANY($2::uuid[])' : ''}`;
  const sums = Object.entries(cols).map(([h, e]) => `coalesce(sum(${e}),0)::text AS "${h}"`).join(', ');
  const [row] = await ds.query(`SELECT count(*)::int AS n, ${sums} FROM ${from} WHERE ${where}`, ids ? [tenantId, ids] : [tenantId]);
  return row as Record<string, string> & { n: number };
}

/** Requests an export while the worker is paused, subscribes, lets the worker go, and returns every state seen. */
async function runExport(tenantId: string, input: Record<string, unknown>): Promise<{ events: ExportState[]; final: ExportState }> {
  await worker.pause();
  const token = app.token(tenantId);
  const res = await app.gql(REQUEST, { input }, token);
  expect(res.errors).toBeUndefined();
  const requested = res.data.requestInvoiceExport as ExportState;
  expect(requested.status).toBe('QUEUED');
  const client = wsClient(app.wsUrl, token);
  try {
    const followed = followExport(client, requested.id);
    await followed.until((e) => e.status === 'QUEUED');
    worker.resume();
    const events = await followed.done;
    return { events, final: events.at(-1)! };
  } finally {
    await client.dispose();
  }
}

beforeAll(async () => {
  app = await startTestApp({ role: 'api' });
  ds = app.running.services.dataSource;
  worker = await startWorker(app.running.services);
  seeded = (await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('seeded'), invoices: 300, ifExists: 'duplicate' })).tenantId;

  nasty = await createTenant(ds, uniqueName('nasty'));
  const p1 = await createPayer(ds, nasty, { lastName: NASTY.semicolonName, firstName: 'Héloïse', customerIdentifier: '000417', familyQuotient: '812.50' });
  const p2 = await createPayer(ds, nasty, { lastName: 'ACHARD', firstName: NASTY.emoji, customerIdentifier: NASTY.hyperlink });
  const p3 = await createPayer(ds, nasty, { lastName: NASTY.at, firstName: NASTY.minus, customerIdentifier: null });
  nastyIds = [];
  nastyIds.push(await createInvoice(ds, nasty, { number: 'F163881', billingDate: '2019-01-25', payerId: p1, roleNumber: 300, notes: 'Élèves BUSSON Johanna', uniqueIdentifier: '39801',
    lines: [{ unitPrice: '500.00', label: NASTY.hyperlink, beneficiary: NASTY.multiline, accountingAccount: '000706' }] }));
  nastyIds.push(await createInvoice(ds, nasty, { number: 'F163880', billingDate: '2019-01-15', payerId: p2, notes: NASTY.phone, amountPaid: '200.00', status: 'PARTIALLY_PAID' as never,
    lines: [{ unitPrice: '150.00', quantity: '2', label: NASTY.minus }, { unitPrice: '10.00', discountAmount: '10.00', label: NASTY.tab, activity: NASTY.at }] }));
  nastyIds.push(await createInvoice(ds, nasty, { number: 'F163882', billingDate: '2019-12-31', payerId: p3, notes: NASTY.longNote,
    lines: [{ unitPrice: '0.10', quantity: '3' }, { unitPrice: '0.20' }] }));
  nastyIds.push(await createInvoice(ds, nasty, { number: 'A000001', type: 'CREDIT_NOTE' as never, billingDate: '2016-05-26', payerId: p1, billingPeriod: 'SEMESTER_1' as never, billingYear: '2015', notes: 'Facture 98415', status: 'SETTLED' as never,
    creditedInvoiceId: nastyIds[0], lines: [{ unitPrice: '-500.50' }] }));
}, 120_000);

afterAll(async () => {
  await worker?.close(1000);
  await app?.stop();
});

describe.each([
  ['INVOICES', 'XLSX', 'fr-FR'],
  ['INVOICES', 'XLSX', 'en-GB'],
  ['INVOICES', 'CSV', 'fr-FR'],
  ['INVOICES', 'CSV', 'en-GB'],
  ['INVOICE_LINES', 'XLSX', 'fr-FR'],
  ['INVOICE_LINES', 'XLSX', 'en-GB'],
  ['INVOICE_LINES', 'CSV', 'fr-FR'],
  ['INVOICE_LINES', 'CSV', 'en-GB'],
] as const)('%s as %s in %s, followed through the subscription', (kind, format, locale) => {
  it('goes QUEUED → RUNNING → COMPLETED and the downloaded file matches the database to the cent', async () => {
    const { events, final } = await runExport(seeded, { kind, format, locale, selection: { filter: {} } });
    const statuses = events.map((e) => e.status);
    expect(statuses[0]).toBe('QUEUED');
    expect(statuses).toContain('RUNNING');
    expect(final.status).toBe('COMPLETED');
    const running = events.filter((e) => e.status === 'RUNNING').map((e) => e.processedRows);
    expect(running).toEqual([...running].sort((a, b) => a - b));
    const progress = events.map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(final.progress).toBe(1);

    const totals = await sqlTotals(kind, seeded);
    expect(final.rowCount).toBe(totals.n);
    expect(final.fileName).toMatch(new RegExp(`^${{ INVOICES: { 'fr-FR': 'factures', 'en-GB': 'invoices' }, INVOICE_LINES: { 'fr-FR': 'lignes-de-facturation', 'en-GB': 'invoice-lines' } }[kind][locale]}_\\d{8}-\\d{4}\\.${format.toLowerCase()}$`));
    expect(final.downloadUrl).toMatch(/^http/);
    const file = await download(final.downloadUrl!);
    expect(file.length).toBe(final.fileSize);

    const expectedHeader = locale === 'fr-FR' ? [...FR_HEADERS[kind]] : headersFor(kind as never, 'en-GB');
    const frHeader = [...FR_HEADERS[kind]] as string[];
    const moneyIdx = Object.keys(MONEY_SQL[kind]).map((h) => frHeader.indexOf(h));
    const typeIdx = 0;
    const dueIdx = frHeader.indexOf(kind === 'INVOICES' ? 'Montant dû' : 'Montant');
    let creditNotes = 0;
    // Each credit note is negative as a whole (a line of it may reverse a discount).
    const creditSums = new Map<string, bigint>();
    if (format === 'XLSX') {
      const { sheets } = await readXlsx(file);
      const data = sheets[0];
      expect(data.name).toBe(kind === 'INVOICES' ? (locale === 'fr-FR' ? 'Factures et avoirs' : data.name) : locale === 'fr-FR' ? 'Lignes de facturation' : data.name);
      expect(sheets.map((s) => s.name)).toContain(locale === 'fr-FR' ? 'Résumé' : 'Summary');
      expect(data.header).toEqual(expectedHeader);
      expect(data.rows).toHaveLength(totals.n);
      const sums = moneyIdx.map(() => 0n);
      for (const row of data.rows) {
        moneyIdx.forEach((idx, k) => {
          const cell = row.getCell(idx + 1);
          expect(cell.type).toBe(ExcelJS.ValueType.Number);
          sums[k] += cellCents(cell.value);
        });
        const date = row.getCell(3);
        expect(date.type).toBe(ExcelJS.ValueType.Date);
        expect(date.numFmt).toBe('dd/mm/yyyy');
        if (String(row.getCell(typeIdx + 1).value) === (locale === 'fr-FR' ? 'avoir' : 'credit note')) {
          creditNotes++;
          const no = String(row.getCell(2).value);
          creditSums.set(no, (creditSums.get(no) ?? 0n) + cellCents(row.getCell(dueIdx + 1).value));
        }
      }
      Object.keys(MONEY_SQL[kind]).forEach((h, k) => expect(`${h}=${sums[k]}`).toBe(`${h}=${csvCents(totals[h])}`));
    } else {
      const { header, rows, raw } = readCsv(file, locale);
      expect(file.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      expect(raw).toContain('\r\n');
      expect(header).toEqual(expectedHeader);
      expect(rows).toHaveLength(totals.n);
      const sums = moneyIdx.map(() => 0n);
      for (const row of rows) {
        moneyIdx.forEach((idx, k) => {
          expect(row[idx]).toMatch(locale === 'fr-FR' ? /^-?\d+,\d{2}$/ : /^-?\d+\.\d{2}$/);
          sums[k] += csvCents(row[idx]);
        });
        expect(row[2]).toMatch(locale === 'fr-FR' ? /^\d{2}\/\d{2}\/\d{4}$/ : /^\d{4}-\d{2}-\d{2}$/);
        if (row[typeIdx] === (locale === 'fr-FR' ? 'avoir' : 'credit note')) {
          creditNotes++;
          creditSums.set(row[1], (creditSums.get(row[1]) ?? 0n) + csvCents(row[dueIdx]));
        }
      }
      Object.keys(MONEY_SQL[kind]).forEach((h, k) => expect(`${h}=${sums[k]}`).toBe(`${h}=${csvCents(totals[h])}`));
    }
    const [{ cn }] = await ds.query(
      kind === 'INVOICES'
        ? `SELECT count(*)::int AS cn FROM invoices WHERE tenant_id = $1 AND type = 'CREDIT_NOTE'`
        : `SELECT count(*)::int AS cn FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id WHERE i.tenant_id = $1 AND i.type = 'CREDIT_NOTE'`,
      [seeded],
    );
    expect(cn).toBeGreaterThan(0);
    expect(creditNotes).toBe(cn);
    expect(creditSums.size).toBeGreaterThan(0);
    for (const [no, sum] of creditSums) expect(`${no}: ${sum < 0n}`).toBe(`${no}: true`);
  });
});

describe('nasty data', () => {
  it('round-trips through CSV with the formula guard on text only', async () => {
    const { final } = await runExport(nasty, { kind: 'INVOICE_LINES', format: 'CSV', locale: 'fr-FR', selection: { invoiceIds: nastyIds } });
    expect(final.status).toBe('COMPLETED');
    const { rows } = readCsv(await download(final.downloadUrl!), 'fr-FR');
    const h = (name: string) => FR_HEADERS.INVOICE_LINES.indexOf(name as never);
    const byLabel = (label: string) => rows.find((r) => r[h('Désignation')] === label)!;
    expect(rows).toHaveLength(6);
    // Order: billing date, then number, lines by position.
    expect(rows.map((r) => `${r[h('N° de pièce')]}/${r[h('N° de ligne')]}`)).toEqual(['A000001/1', 'F163880/1', 'F163880/2', 'F163881/1', 'F163882/1', 'F163882/2']);
    expect(byLabel(`'${NASTY.hyperlink}`)[h('Élève')]).toBe(NASTY.multiline);
    expect(byLabel(`'${NASTY.hyperlink}`)[h('Payeur')]).toBe('DUPRÉ; DIT "LE GRAND" Héloïse'); // LASTNAME Firstname
    expect(byLabel(`'${NASTY.hyperlink}`)[h('Identifiant client')]).toBe('000417');
    expect(byLabel(`'${NASTY.hyperlink}`)[h('Compte comptable')]).toBe('000706');
    expect(byLabel(`'${NASTY.minus}`)[h('Montant')]).toBe('300,00');
    expect(byLabel(`'${NASTY.tab}`)[h('Activité')]).toBe(`'${NASTY.at}`);
    expect(byLabel(`'${NASTY.minus}`)[h('Payeur')]).toBe(`ACHARD ${NASTY.emoji}`);
    expect(byLabel(`'${NASTY.minus}`)[h('Identifiant client')]).toBe(`'${NASTY.hyperlink}`);
    const credit = rows.find((r) => r[h('N° de pièce')] === 'A000001')!;
    expect(credit[h('Montant')]).toBe('-500,50'); // a number: never guarded
    expect(credit[h('Prix unitaire')]).toBe('-500,50');
    expect(credit[h('Date de facturation')]).toBe('26/05/2016');
  });

  it('keeps every payload a plain string in XLSX, with the 5,000-character note intact', async () => {
    const { final } = await runExport(nasty, { kind: 'INVOICES', format: 'XLSX', locale: 'fr-FR', selection: { invoiceIds: nastyIds } });
    expect(final.status).toBe('COMPLETED');
    const { sheets } = await readXlsx(await download(final.downloadUrl!));
    const data = sheets[0];
    const h = (name: string) => FR_HEADERS.INVOICES.indexOf(name as never) + 1;
    expect(data.rows.map((r) => r.getCell(h('N° de pièce')).value)).toEqual(['A000001', 'F163880', 'F163881', 'F163882']);
    const [credit, partial, first, long] = data.rows;
    for (const row of data.rows) {
      row.eachCell((cell) => expect(cell.formula).toBeFalsy());
    }
    expect(partial.getCell(h('Notes')).value).toBe(NASTY.phone);
    expect(partial.getCell(h('Notes')).type).toBe(ExcelJS.ValueType.String);
    expect(partial.getCell(h('Identifiant client')).value).toBe(NASTY.hyperlink);
    expect(partial.getCell(h('Identifiant client')).type).toBe(ExcelJS.ValueType.String);
    expect(partial.getCell(h('Payeur')).value).toBe(`ACHARD ${NASTY.emoji}`);
    expect(first.getCell(h('Identifiant client')).value).toBe('000417');
    expect(first.getCell(h('Identifiant client')).type).toBe(ExcelJS.ValueType.String);
    expect(first.getCell(h('Payeur')).value).toBe('DUPRÉ; DIT "LE GRAND" Héloïse');
    expect(first.getCell(h('Numéro de rôle')).value).toBe(300);
    expect(long.getCell(h('Notes')).value).toBe(NASTY.longNote);
    expect(NASTY.longNote.length).toBe(5000);
    expect(long.getCell(h('Payeur')).value).toBe(`${NASTY.at} ${NASTY.minus}`);
    expect(credit.getCell(h('Montant dû')).value).toBe(-500.5);
    expect(credit.getCell(h('Montant dû')).numFmt).toMatch(/0\.00/);
    expect((credit.getCell(h('Date de facturation')).value as Date).toISOString()).toBe('2016-05-26T00:00:00.000Z');
    expect(first.getCell(h('Quotient familial')).value).toBe(812.5);
  });
});

describe('selection', () => {
  it('by ids is exact', async () => {
    const ids = nastyIds.slice(1, 3);
    const { final } = await runExport(nasty, { kind: 'INVOICES', format: 'CSV', locale: 'en-GB', selection: { invoiceIds: ids } });
    const { rows } = readCsv(await download(final.downloadUrl!), 'en-GB');
    expect(rows.map((r) => r[1]).sort()).toEqual(['F163880', 'F163882']);
  });

  it('a filter minus excludedInvoiceIds equals the list query minus them', async () => {
    const token = app.token(seeded);
    const filter = { statuses: ['TO_COLLECT', 'PARTIALLY_PAID'], billingDateFrom: '2019-01-01' };
    const list = await app.gql(`query($f: InvoiceFilter) { invoices(filter: $f, first: 500) { totalCount edges { node { id number } } } }`, { f: filter }, token);
    const nodes = list.data.invoices.edges.map((e: { node: { id: string; number: string } }) => e.node);
    expect(nodes.length).toBeGreaterThan(5);
    expect(list.data.invoices.totalCount).toBe(nodes.length);
    const excluded = nodes.slice(0, 3);
    const { final } = await runExport(seeded, { kind: 'INVOICES', format: 'CSV', locale: 'fr-FR', selection: { filter, excludedInvoiceIds: excluded.map((n: { id: string }) => n.id) } });
    const { rows } = readCsv(await download(final.downloadUrl!), 'fr-FR');
    const expected = nodes.slice(3).map((n: { number: string }) => n.number).sort();
    expect(rows.map((r) => r[1]).sort()).toEqual(expected);
  });
});

describe('idempotency', () => {
  it('the same key from the same tenant returns the existing export', async () => {
    const token = app.token(nasty);
    const input = { kind: 'INVOICES', selection: { invoiceIds: nastyIds }, idempotencyKey: uniqueName('key') };
    const a = await app.gql(REQUEST, { input }, token);
    const b = await app.gql(REQUEST, { input }, token);
    expect(b.data.requestInvoiceExport.id).toBe(a.data.requestInvoiceExport.id);
    const other = await app.gql(REQUEST, { input: { ...input, selection: { filter: {} } } }, app.token(seeded));
    expect(other.data.requestInvoiceExport.id).not.toBe(a.data.requestInvoiceExport.id);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM invoice_exports WHERE idempotency_key = $1`, [input.idempotencyKey]);
    expect(n).toBe(2);
  });
});

describe('VIEWER', () => {
  it('may read but not export', async () => {
    const res = await app.gql(REQUEST, { input: { kind: 'INVOICES', selection: { invoiceIds: nastyIds } } }, app.token(nasty, [Role.VIEWER]));
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
