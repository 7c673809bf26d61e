import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { inflateRawSync } from 'node:zlib';
import ExcelJS from 'exceljs';
import {
  BillingPeriod,
  ExportFormat,
  ExportKind,
  InvoiceStatus,
  InvoiceType,
  PaymentMethod,
} from '../../src/entities/enums';
import type { ColumnDef } from '../../src/exports/cells';
import { columnsFor, headersFor, MONEY_COLUMN_KEYS } from '../../src/exports/columns';
import type { ExportLocale } from '../../src/exports/labels';
import type { InvoiceLineRow, InvoiceRow } from '../../src/exports/columns';
import type { ExportSummary } from '../../src/exports/writers/writer';
import { contentTypeFor, extensionFor } from '../../src/exports/formats';
import { exportKind, openExportFile } from '../../src/exports/kinds';
import { XlsxExportWriter } from '../../src/exports/writers/xlsx';

const AT = new Date('2026-12-02T10:00:00Z');
import { formatCents, sumMoney, toCents } from '../../src/money';

const ROOT = path.resolve(__dirname, '../..');

const SUMMARY: ExportSummary = {
  tenantName: 'Conservatoire à rayonnement communal',
  requestedBy: 'Marie Busson',
  requestedAt: new Date('2026-11-27T22:45:00Z'), // 23:45 in Paris
  generatedAt: new Date('2026-11-27T23:05:30Z'), // 00:05 on the 28th in Paris
  selection: '=12 factures sélectionnées',
  invoiceCount: 7,
  creditNoteCount: 3,
  rowCount: 10,
  totalDue: '-1234.56',
  totalPaid: '100.10',
  totalRemaining: '1000000.01',
};

function invoiceRow(i: number, over: Partial<InvoiceRow> = {}): InvoiceRow {
  const credit = i % 4 === 3;
  const cents = ((i * 7919) % 100000) + 1;
  const amount = `${credit ? '-' : ''}${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  return {
    type: credit ? InvoiceType.CREDIT_NOTE : InvoiceType.INVOICE,
    number: `${credit ? 'A' : 'F'}${String(i).padStart(6, '0')}`,
    billingDate: `2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
    roleNumber: i % 5 === 0 ? null : 2024,
    payerLastName: 'Busson',
    payerFirstName: 'Marie',
    billingPeriod: BillingPeriod.SEMESTER_2,
    billingYear: '2024/2025',
    notes: null,
    amountDue: amount,
    amountPaid: credit ? amount : '0.00',
    remainingDue: credit ? '0.00' : amount,
    pendingCollection: i % 2 ? amount : '0.00',
    status: credit ? InvoiceStatus.SETTLED : InvoiceStatus.PARTIALLY_PAID,
    uniqueIdentifier: String(i).padStart(6, '0'),
    customerIdentifier: `00${i}`,
    familyQuotient: i % 3 ? '812.5' : null,
    paymentMethod: i % 2 ? PaymentMethod.DIRECT_DEBIT : null,
    ...over,
  };
}

function lineRow(i: number, over: Partial<InvoiceLineRow> = {}): InvoiceLineRow {
  return {
    type: i % 2 ? InvoiceType.CREDIT_NOTE : InvoiceType.INVOICE,
    number: 'F000042',
    billingDate: '2024-09-01',
    payerLastName: 'Lefèvre',
    payerFirstName: 'Zoé',
    customerIdentifier: '0041',
    billingYear: '2024/2025',
    billingPeriod: BillingPeriod.QUARTER_1,
    position: i + 1,
    label: 'Piano 30 min',
    beneficiary: 'Zoé',
    activity: 'Piano',
    quantity: '1.5',
    unitPrice: i % 2 ? '-120.00' : '120.00',
    discountAmount: '10.05',
    amount: i % 2 ? '-170.95' : '170.95',
    vatRate: '5.5',
    accountingAccount: '706100',
    analyticCode: '000417',
    ...over,
  };
}

async function writeXlsx(
  kind: ExportKind,
  locale: ExportLocale,
  rows: (InvoiceRow | InvoiceLineRow)[],
  extra: { maxRowsPerSheet?: number; timeZone?: string } = {},
): Promise<Buffer> {
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  const writer = openExportFile(kind, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.XLSX, locale, output, ...extra }).writer;
  for (const row of rows) await writer.writeRow(row);
  await writer.finish(SUMMARY);
  expect(writer.rowCount).toBe(rows.length);
  return Buffer.concat(chunks);
}

async function load(buf: Buffer): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ExcelJS.Buffer);
  return wb;
}

const rowValues = (ws: ExcelJS.Worksheet, r: number): unknown[] => (ws.getRow(r).values as unknown[]).slice(1);

/** Data rows of a sheet as header → cell. */
function records(ws: ExcelJS.Worksheet): Map<string, ExcelJS.Cell>[] {
  const header = rowValues(ws, 1) as string[];
  const out: Map<string, ExcelJS.Cell>[] = [];
  for (let r = 2; r <= ws.rowCount; r++) {
    const row = ws.getRow(r);
    out.push(new Map(header.map((h, i) => [h, row.getCell(i + 1)])));
  }
  return out;
}

/** An amount cell read back as cents (its number has at most 2 decimals). */
const cellCents = (cell: ExcelJS.Cell): bigint => toCents((cell.value as number).toFixed(2));

describe('XLSX writer', () => {
  it('writes a data sheet per kind and locale with a bold, frozen, filtered header, then a Résumé', async () => {
    const cases = [
      [ExportKind.INVOICES, 'fr-FR', 'Factures et avoirs', 'Résumé'],
      [ExportKind.INVOICES, 'en-GB', 'Invoices and credit notes', 'Summary'],
      [ExportKind.INVOICE_LINES, 'fr-FR', 'Lignes de facturation', 'Résumé'],
      [ExportKind.INVOICE_LINES, 'en-GB', 'Billing lines', 'Summary'],
    ] as const;
    for (const [kind, locale, sheetName, summaryName] of cases) {
      const rows = kind === ExportKind.INVOICES ? [invoiceRow(0), invoiceRow(3)] : [lineRow(0), lineRow(1)];
      const wb = await load(await writeXlsx(kind, locale, rows));
      expect(wb.worksheets.map((w) => w.name)).toEqual([sheetName, summaryName]);
      const ws = wb.getWorksheet(sheetName)!;
      const headers = headersFor(kind, locale);
      expect(rowValues(ws, 1)).toEqual(headers);
      expect(ws.rowCount).toBe(3);
      expect(ws.getRow(1).getCell(1).font?.bold).toBe(true);
      expect(ws.getRow(1).getCell(headers.length).font?.bold).toBe(true);
      expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
      const lastCol = ws.getColumn(headers.length).letter;
      expect(ws.autoFilter).toBe(`A1:${lastCol}3`);
      for (let c = 1; c <= headers.length; c++) {
        const width = ws.getColumn(c).width!;
        expect(width).toBeGreaterThanOrEqual(8);
        expect(width).toBeLessThanOrEqual(60);
        expect(width).toBeGreaterThanOrEqual(headers[c - 1].length);
      }
    }
  });

  it('writes typed cells: real dates, two-decimal amounts, text codes with their zeros', async () => {
    const row = invoiceRow(3, {
      billingDate: '2019-01-31',
      amountDue: '-500.50',
      familyQuotient: '812.5',
      roleNumber: 12,
      uniqueIdentifier: '000417',
      customerIdentifier: '0041100',
      number: 'A000001',
    });
    const wb = await load(await writeXlsx(ExportKind.INVOICES, 'fr-FR', [row]));
    const [rec] = records(wb.getWorksheet('Factures et avoirs')!);

    const date = rec.get('Date de facturation')!;
    expect(date.type).toBe(ExcelJS.ValueType.Date);
    expect((date.value as Date).toISOString()).toBe('2019-01-31T00:00:00.000Z');
    expect(date.numFmt).toBe('dd/mm/yyyy');

    for (const h of ['Montant dû', 'Montant payé', 'Restant dû', "Total en attente d'encaissement"]) {
      const cell = rec.get(h)!;
      expect(cell.type).toBe(ExcelJS.ValueType.Number);
      expect(cell.numFmt).toBe('#,##0.00');
    }
    expect(rec.get('Montant dû')!.value).toBe(-500.5);
    expect(rec.get('Quotient familial')!.value).toBe(812.5);
    expect(rec.get('Quotient familial')!.numFmt).toBe('#,##0.00');
    expect(rec.get('Numéro de rôle')!.value).toBe(12);
    expect(rec.get('Numéro de rôle')!.type).toBe(ExcelJS.ValueType.Number);

    for (const [h, v] of [
      ['N° de pièce', 'A000001'],
      ['Identifiant unique', '000417'],
      ['Identifiant client', '0041100'],
      ['Année de facturation', '2024/2025'],
      ['Type de pièce', 'avoir'],
      ['Payeur', 'BUSSON Marie'],
      ['Période de facturation', '2e semestre'],
      ['État', 'Cotisé'],
    ]) {
      expect(rec.get(h)!.type).toBe(ExcelJS.ValueType.String);
      expect(rec.get(h)!.value).toBe(v);
    }
    expect(rec.get('Identifiant unique')!.numFmt).toBe('@');
    // Nulls are empty cells.
    expect(rec.get('Notes')!.type).toBe(ExcelJS.ValueType.Null);
  });

  it('writes billing lines: quantity with 3 decimals, VAT rate as a percentage, codes as text', async () => {
    const wb = await load(await writeXlsx(ExportKind.INVOICE_LINES, 'en-GB', [lineRow(0, { analyticCode: null })]));
    const [rec] = records(wb.getWorksheet('Billing lines')!);
    expect(rec.get('Quantity')!.value).toBe(1.5);
    expect(rec.get('Quantity')!.numFmt).toBe('#,##0.000');
    expect(rec.get('VAT rate')!.value).toBeCloseTo(0.055, 12);
    expect(rec.get('VAT rate')!.numFmt).toBe('0.00%');
    expect(rec.get('Line no.')!.value).toBe(1);
    expect(rec.get('Accounting account')!.value).toBe('706100');
    expect(rec.get('Accounting account')!.type).toBe(ExcelJS.ValueType.String);
    expect(rec.get('Analytic code')!.type).toBe(ExcelJS.ValueType.Null);
    expect(rec.get('Payer')!.value).toBe('LEFÈVRE Zoé');
    expect(rec.get('Discount')!.value).toBe(10.05);
  });

  it('totals every money column to the cent, credit notes negative (both kinds)', async () => {
    const invoices = Array.from({ length: 1500 }, (_, i) => invoiceRow(i));
    const lines = Array.from({ length: 600 }, (_, i) => lineRow(i, { amount: `${i % 2 ? '-' : ''}${i}.${String(i % 100).padStart(2, '0')}` }));
    for (const [kind, rows] of [
      [ExportKind.INVOICES, invoices],
      [ExportKind.INVOICE_LINES, lines],
    ] as const) {
      const wb = await load(await writeXlsx(kind, 'fr-FR', rows));
      const recs = records(wb.worksheets[0]);
      expect(recs).toHaveLength(rows.length);
      for (const key of MONEY_COLUMN_KEYS[kind]) {
        const header = columnsFor(kind).find((c) => c.key === key)!.header['fr-FR'];
        const fileTotal = formatCents(recs.reduce((t, r) => t + cellCents(r.get(header)!), 0n));
        expect(fileTotal).toBe(sumMoney(rows.map((r) => (r as unknown as Record<string, string>)[key])));
      }
      const amountHeader = kind === ExportKind.INVOICES ? 'Montant dû' : 'Montant';
      recs.forEach((r, i) => {
        const credit = r.get('Type de pièce')!.value === 'avoir';
        const cents = cellCents(r.get(amountHeader)!);
        if (cents !== 0n) expect(cents < 0n).toBe(credit);
        expect(r.get('N° de pièce')!.value).toBe(rows[i].number); // order kept
      });
    }
  });

  it('keeps nasty text as plain strings, never formulas', async () => {
    const nasty = [
      'Éloïse-Noël Ñúñez',
      'a;b,c',
      'il a dit "bonjour" & <ciao>',
      'ligne 1\r\nligne 2\nligne 3',
      '🎹🎻 musique',
      '=HYPERLINK("http://x","y")',
      '+33 6 12 34 56 78',
      '-2+3',
      '@SUM(A1:A2)',
      '  espaces autour  ',
      'littéral _x0041_ gardé',
      'x'.repeat(5000),
    ];
    const rows = nasty.map((notes, i) => invoiceRow(i, { notes, payerLastName: notes, payerFirstName: '' }));
    const wb = await load(await writeXlsx(ExportKind.INVOICES, 'fr-FR', rows));
    const recs = records(wb.getWorksheet('Factures et avoirs')!);
    recs.forEach((r, i) => {
      const notes = r.get('Notes')!;
      expect(notes.type).toBe(ExcelJS.ValueType.String);
      expect(notes.formula).toBeUndefined();
      // Excel decodes `_xHHHH_` in cell text (ECMA-376 ST_Xstring), so a literal one is
      // written escaped as `_x005F_xHHHH_`; exceljs's reader does not decode it.
      expect(notes.value).toBe(nasty[i].replace('_x0041_', '_x005F_x0041_'));
      expect(r.get('Payeur')!.type).toBe(ExcelJS.ValueType.String);
    });
    expect(recs[5].get('Payeur')!.value).toBe('=HYPERLINK("HTTP://X","Y")');
  });

  it('drops characters XML cannot carry and cuts text at the Excel cell limit', async () => {
    const long = `${'é'.repeat(40_000)}`;
    const rows = [invoiceRow(0, { notes: 'bip\u0007bop\u0000' }), invoiceRow(1, { notes: long })];
    const wb = await load(await writeXlsx(ExportKind.INVOICES, 'fr-FR', rows));
    const recs = records(wb.worksheets[0]);
    expect(recs[0].get('Notes')!.value).toBe('bipbop');
    const cut = recs[1].get('Notes')!.value as string;
    expect(cut).toHaveLength(32_767);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('continues past maxRowsPerSheet on numbered sheets, each with its header', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => invoiceRow(i));
    const wb = await load(await writeXlsx(ExportKind.INVOICES, 'fr-FR', rows, { maxRowsPerSheet: 4 }));
    expect(wb.worksheets.map((w) => w.name)).toEqual([
      'Factures et avoirs',
      'Factures et avoirs (2)',
      'Factures et avoirs (3)',
      'Résumé',
    ]);
    const numbers: unknown[] = [];
    for (const [i, ws] of wb.worksheets.slice(0, 3).entries()) {
      expect(rowValues(ws, 1)).toEqual(headersFor(ExportKind.INVOICES, 'fr-FR'));
      expect(ws.getRow(1).getCell(1).font?.bold).toBe(true);
      expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
      const dataRows = [4, 4, 2][i];
      expect(ws.rowCount).toBe(dataRows + 1);
      expect(ws.autoFilter).toBe(`A1:Q${dataRows + 1}`);
      for (const r of records(ws)) {
        numbers.push(r.get('N° de pièce')!.value);
        expect(r.get('Date de facturation')!.type).toBe(ExcelJS.ValueType.Date);
        expect(r.get('Montant dû')!.numFmt).toBe('#,##0.00');
      }
    }
    expect(numbers).toEqual(rows.map((r) => r.number));
  });

  it('writes the Résumé facts: texts as strings, times on the tenant clock, totals as amounts', async () => {
    const wb = await load(await writeXlsx(ExportKind.INVOICES, 'fr-FR', [invoiceRow(0)], { timeZone: 'Europe/Paris' }));
    const ws = wb.getWorksheet('Résumé')!;
    const facts = new Map<string, ExcelJS.Cell>();
    ws.eachRow((row) => facts.set(String(row.getCell(1).value), row.getCell(2)));
    expect([...facts.keys()]).toEqual([
      'Export',
      'Structure',
      'Demandé par',
      'Demandé le',
      'Généré le',
      'Fuseau horaire',
      'Sélection',
      'Nombre de factures',
      "Nombre d'avoirs",
      'Nombre de lignes exportées',
      'Total dû',
      'Total payé',
      'Total restant dû',
    ]);
    expect(facts.get('Export')!.value).toBe('Factures et avoirs');
    expect(facts.get('Structure')!.value).toBe(SUMMARY.tenantName);
    expect(facts.get('Demandé par')!.value).toBe('Marie Busson');
    expect((facts.get('Demandé le')!.value as Date).toISOString()).toBe('2026-11-27T23:45:00.000Z');
    expect((facts.get('Généré le')!.value as Date).toISOString()).toBe('2026-11-28T00:05:30.000Z');
    expect(facts.get('Généré le')!.numFmt).toBe('dd/mm/yyyy hh:mm');
    expect(facts.get('Fuseau horaire')!.value).toBe('Europe/Paris');
    const selection = facts.get('Sélection')!;
    expect(selection.type).toBe(ExcelJS.ValueType.String);
    expect(selection.value).toBe('=12 factures sélectionnées');
    expect(facts.get('Nombre de factures')!.value).toBe(7);
    expect(facts.get("Nombre d'avoirs")!.value).toBe(3);
    expect(facts.get('Nombre de lignes exportées')!.value).toBe(10);
    for (const [label, total] of [
      ['Total dû', SUMMARY.totalDue],
      ['Total payé', SUMMARY.totalPaid],
      ['Total restant dû', SUMMARY.totalRemaining],
    ]) {
      const cell = facts.get(label)!;
      expect(cell.type).toBe(ExcelJS.ValueType.Number);
      expect(cell.numFmt).toBe('#,##0.00');
      expect(formatCents(cellCents(cell))).toBe(total);
    }
    expect(ws.getRow(1).getCell(1).font?.bold).toBe(true);

    const en = await load(await writeXlsx(ExportKind.INVOICE_LINES, 'en-GB', [], { timeZone: 'UTC' }));
    const enSummary = en.getWorksheet('Summary')!;
    expect(rowValues(enSummary, 1)).toEqual(['Export', 'Billing lines']);
    expect(rowValues(enSummary, 4)[0]).toBe('Requested at');
    expect((rowValues(enSummary, 4)[1] as Date).toISOString()).toBe('2026-11-27T22:45:00.000Z');
  });

  it('writes the header alone for an empty export', async () => {
    const wb = await load(await writeXlsx(ExportKind.INVOICES, 'fr-FR', []));
    const ws = wb.getWorksheet('Factures et avoirs')!;
    expect(rowValues(ws, 1)).toEqual(headersFor(ExportKind.INVOICES, 'fr-FR'));
    expect(ws.rowCount).toBe(1);
    expect(wb.getWorksheet('Résumé')).toBeDefined();
  });

  it('keeps calendar dates whatever the process time zone (TZ=America/Los_Angeles)', () => {
    // A process of its own: TZ is read when the process starts.
    const script = `
      const { PassThrough } = require('node:stream');
      const ExcelJS = require('exceljs');
      const { openExportFile } = require('./src/exports/kinds');
      (async () => {
        const output = new PassThrough(); const chunks = []; output.on('data', (c) => chunks.push(c));
        const { writer: w } = openExportFile('INVOICES', { format: 'XLSX', locale: 'fr-FR', output, at: new Date(), timeZone: 'Europe/Paris' });
        const row = JSON.parse(process.argv[1]);
        for (const d of ['2024-01-01', '2024-03-31', '2024-12-31', '2019-01-31']) await w.writeRow({ ...row, billingDate: d });
        await w.finish({ ...JSON.parse(process.argv[2]), requestedAt: new Date(0), generatedAt: new Date(0) });
        const wb = new ExcelJS.Workbook(); await wb.xlsx.load(Buffer.concat(chunks));
        const ws = wb.worksheets[0];
        const dates = [2, 3, 4, 5].map((r) => ws.getRow(r).getCell(3).value.toISOString().slice(0, 10));
        process.stdout.write(JSON.stringify({ offset: new Date(2024, 0, 1).getTimezoneOffset(), dates }));
      })().catch((e) => { console.error(e); process.exit(1); });
    `;
    const out = execFileSync(
      process.execPath,
      ['-r', './scripts/register.js', '-e', script, JSON.stringify(invoiceRow(1)), JSON.stringify(SUMMARY)],
      { cwd: ROOT, env: { ...process.env, TZ: 'America/Los_Angeles' }, encoding: 'utf8' },
    );
    const result = JSON.parse(out) as { offset: number; dates: string[] };
    expect(result.offset).toBe(480); // really ran 8 hours behind UTC
    expect(result.dates).toEqual(['2024-01-01', '2024-03-31', '2024-12-31', '2019-01-31']);
  });

  it('names its content type and extension', () => {
    expect(contentTypeFor(ExportFormat.XLSX)).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(extensionFor(ExportFormat.XLSX)).toBe('xlsx');
  });

  it('waits for a slow reader instead of buffering (backpressure)', async () => {
    const output = new PassThrough({ highWaterMark: 16 * 1024 });
    const writer = openExportFile(ExportKind.INVOICES, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.XLSX, locale: 'fr-FR', output }).writer;
    const total = 20_000;
    // Notes that barely compress, so that the file is big: ~1.6 KB of XML per row, ~30 MB in all.
    const notes = Array.from({ length: 256 }, () => randomBytes(1000).toString('base64'));
    // (rows accepted, bytes delivered) along the way: how far the writer runs ahead of the reader.
    const samples: [number, number][] = [];
    let received = 0;
    const sampler = setInterval(() => samples.push([writer.rowCount, received]), 5);
    const producer = (async () => {
      for (let i = 0; i < total; i++) await writer.writeRow(invoiceRow(i, { notes: notes[i % notes.length] }));
      await writer.finish(SUMMARY);
    })();

    try {
      // Nobody reads: the writer stops once a few MB are pending (its own
      // bound plus the fixed buffers of the zip stages).
      // (Polled rather than timed: on a loaded machine it takes longer to get there.)
      let stalledAt = -1;
      for (let waited = 0; waited < 20_000 && writer.rowCount !== stalledAt; waited += 300) {
        stalledAt = writer.rowCount;
        await sleep(300);
      }
      expect(writer.rowCount).toBe(stalledAt);
      expect(stalledAt).toBeLessThan(total / 4);

      // A slow reader: the producer advances, never far ahead of the reader.
      let tail = Buffer.alloc(0);
      output.on('data', (chunk: Buffer) => {
        received += chunk.length;
        tail = Buffer.concat([tail, chunk]).subarray(-64);
        output.pause();
        setTimeout(() => output.resume(), 1);
      });
      await producer;
      if (!output.readableEnded) await once(output, 'end');
      expect(writer.rowCount).toBe(total);
      expect(received).toBeGreaterThan(18_000_000);
      const bytesPerRow = received / total;
      const maxLead = Math.max(...samples.map(([rows, got]) => rows * bytesPerRow - got));
      // Unbounded buffering would run the whole file (~22 MB) ahead.
      expect(maxLead).toBeLessThan(10 * 1024 * 1024);
      // The zip is complete: it ends with its end-of-central-directory record.
      expect(tail.includes(Buffer.from([0x50, 0x4b, 0x05, 0x06]))).toBe(true);
    } finally {
      clearInterval(sampler);
    }
  });

  it('rejects instead of hanging when the output is destroyed', async () => {
    const output = new PassThrough({ highWaterMark: 1024 });
    const writer = openExportFile(ExportKind.INVOICES, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.XLSX, locale: 'fr-FR', output }).writer;
    const producer = (async () => {
      for (let i = 0; i < 200_000; i++) await writer.writeRow(invoiceRow(i, { notes: `note ${i}`.repeat(20) }));
    })();
    await sleep(100);
    output.destroy(new Error('upload failed'));
    await expect(producer).rejects.toThrow('upload failed');
    await expect(writer.finish(SUMMARY)).rejects.toThrow('upload failed');
  });

  it('abort() releases a writer blocked by a reader that stopped reading', async () => {
    const output = new PassThrough({ highWaterMark: 1024 });
    const writer = openExportFile(ExportKind.INVOICES, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.XLSX, locale: 'fr-FR', output }).writer;
    const producer = (async () => {
      for (let i = 0; i < 200_000; i++) await writer.writeRow(invoiceRow(i, { notes: randomBytes(300).toString('hex') }));
    })();
    await sleep(300);
    expect(writer.rowCount).toBeLessThan(200_000);
    writer.abort(new Error('export cancelled'));
    await expect(producer).rejects.toThrow('export cancelled');
    expect(output.destroyed).toBe(true);
    await expect(writer.finish(SUMMARY)).rejects.toThrow('export cancelled');
  });
});

describe('XLSX package (ZIP)', () => {
  /** The ZIP's central directory as a reader sees it, following the ZIP64 end records when the classic ones are saturated. */
  function centralDirectory(buf: Buffer): { zip64: boolean; entries: { name: string; size: number; compressed: number; offset: number }[] } {
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    expect(eocd).toBeGreaterThan(0);
    let count = buf.readUInt16LE(eocd + 10);
    let cdOffset = buf.readUInt32LE(eocd + 16);
    const zip64 = cdOffset === 0xffffffff;
    if (zip64) {
      expect(buf.readUInt32LE(eocd - 20)).toBe(0x07064b50); // ZIP64 end locator
      const end64 = Number(buf.readBigUInt64LE(eocd - 20 + 8));
      expect(buf.readUInt32LE(end64)).toBe(0x06064b50);
      count = Number(buf.readBigUInt64LE(end64 + 32));
      cdOffset = Number(buf.readBigUInt64LE(end64 + 48));
    }
    const entries = [];
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      expect(buf.readUInt32LE(p)).toBe(0x02014b50);
      const nameLength = buf.readUInt16LE(p + 28);
      const extraLength = buf.readUInt16LE(p + 30);
      let compressed = buf.readUInt32LE(p + 20);
      let size = buf.readUInt32LE(p + 24);
      let offset = buf.readUInt32LE(p + 42);
      const extra = buf.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength);
      if (extraLength) {
        expect(extra.readUInt16LE(0)).toBe(0x0001); // ZIP64 extended information
        let x = 4;
        const next = () => Number(extra.readBigUInt64LE((x += 8) - 8));
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (offset === 0xffffffff) offset = next();
      }
      entries.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLength), size, compressed, offset });
      p += 46 + nameLength + extraLength;
    }
    return { zip64, entries };
  }

  async function workbook(zip64: 'auto' | 'always'): Promise<Buffer> {
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (c: Buffer) => chunks.push(c));
    const writer = new XlsxExportWriter<InvoiceRow>({
      columns: exportKind(ExportKind.INVOICES).columns as unknown as readonly ColumnDef<InvoiceRow>[],
      sheetName: 'Factures et avoirs',
      locale: 'fr-FR',
      output,
      maxRowsPerSheet: 300,
      timeZone: 'Europe/Paris',
      zip64,
    });
    for (let i = 0; i < 700; i++) await writer.writeRow(invoiceRow(i));
    await writer.finish(SUMMARY);
    return Buffer.concat(chunks);
  }

  it('writes a ZIP whose directory points at every part, sheets streamed with their sizes after them', async () => {
    const buf = await workbook('auto');
    const { zip64, entries } = centralDirectory(buf);
    expect(zip64).toBe(false);
    expect(entries.map((e) => e.name).sort()).toEqual([
      '[Content_Types].xml',
      '_rels/.rels',
      'xl/_rels/workbook.xml.rels',
      'xl/styles.xml',
      'xl/workbook.xml',
      'xl/worksheets/sheet1.xml',
      'xl/worksheets/sheet2.xml',
      'xl/worksheets/sheet3.xml',
      'xl/worksheets/sheet4.xml',
    ]);
    for (const e of entries) {
      expect(buf.readUInt32LE(e.offset)).toBe(0x04034b50); // a local header where the directory says
      expect(inflateRawSync(buf.subarray(e.offset + 30 + buf.readUInt16LE(e.offset + 26), e.offset + 30 + buf.readUInt16LE(e.offset + 26) + e.compressed)).length).toBe(e.size);
    }
  });

  it('writes the ZIP64 records of a file past 4 GiB, and the workbook still reads back the same', async () => {
    const plain = await load(await workbook('auto'));
    const buf = await workbook('always');
    const { zip64, entries } = centralDirectory(buf);
    expect(zip64).toBe(true);
    expect(entries).toHaveLength(9);
    const wb = await load(buf);
    expect(wb.worksheets.map((w) => w.name)).toEqual(plain.worksheets.map((w) => w.name));
    for (const [i, ws] of wb.worksheets.entries()) {
      expect(ws.rowCount).toBe(plain.worksheets[i].rowCount);
      expect(ws.getRow(ws.rowCount).values).toEqual(plain.worksheets[i].getRow(ws.rowCount).values);
    }
    expect(ws3Numbers(wb)).toEqual(Array.from({ length: 100 }, (_, i) => invoiceRow(600 + i).number));
  });

  const ws3Numbers = (wb: ExcelJS.Workbook) => records(wb.worksheets[2]).map((r) => r.get('N° de pièce')!.value);
});
