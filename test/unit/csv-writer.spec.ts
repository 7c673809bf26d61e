import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import {
  BillingPeriod,
  ExportFormat,
  ExportKind,
  InvoiceStatus,
  InvoiceType,
  PaymentMethod,
} from '../../src/entities/enums';
import { columnsFor, headersFor, MONEY_COLUMN_KEYS } from '../../src/exports/columns';
import type { ExportLocale } from '../../src/exports/labels';
import type { InvoiceLineRow, InvoiceRow } from '../../src/exports/columns';
import type { ExportSummary } from '../../src/exports/writers/writer';
import { contentTypeFor, extensionFor } from '../../src/exports/formats';
import { openExportFile } from '../../src/exports/kinds';

const AT = new Date('2026-12-02T10:00:00Z');
import { formatCents, sumMoney, toCents } from '../../src/money';

const SUMMARY: ExportSummary = {
  tenantName: 'École de musique',
  requestedBy: 'secretariat@example.org',
  requestedAt: new Date('2026-11-27T10:00:00Z'),
  generatedAt: new Date('2026-11-27T10:00:05Z'),
  selection: 'Tous les résultats',
  invoiceCount: 0,
  creditNoteCount: 0,
  rowCount: 0,
  totalDue: '0.00',
  totalPaid: '0.00',
  totalRemaining: '0.00',
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
    billingPeriod: BillingPeriod.ANNUAL,
    billingYear: '2024/2025',
    notes: null,
    amountDue: amount,
    amountPaid: credit ? amount : '0.00',
    remainingDue: credit ? '0.00' : amount,
    pendingCollection: i % 2 ? amount : '0.00',
    status: credit ? InvoiceStatus.SETTLED : InvoiceStatus.TO_COLLECT,
    uniqueIdentifier: String(i).padStart(6, '0'),
    customerIdentifier: `00${i}`,
    familyQuotient: i % 3 ? '812.5' : null,
    paymentMethod: i % 2 ? PaymentMethod.CHEQUE : null,
    ...over,
  };
}

function lineRow(i: number, over: Partial<InvoiceLineRow> = {}): InvoiceLineRow {
  return {
    type: InvoiceType.INVOICE,
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
    unitPrice: '120.00',
    discountAmount: '-10.00',
    amount: '170.00',
    vatRate: '5.5',
    accountingAccount: '706100',
    analyticCode: '000417',
    ...over,
  };
}

async function writeCsv<K extends ExportKind>(
  kind: K,
  locale: ExportLocale,
  rows: (K extends ExportKind.INVOICES ? InvoiceRow : InvoiceLineRow)[],
): Promise<Buffer> {
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  const writer = openExportFile(kind, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.CSV, locale, output }).writer;
  for (const row of rows) await writer.writeRow(row as never);
  await writer.finish(SUMMARY);
  expect(writer.rowCount).toBe(rows.length);
  return Buffer.concat(chunks);
}

const parseCsv = (buf: Buffer, locale: ExportLocale): string[][] =>
  parse(buf, { bom: true, delimiter: locale === 'fr-FR' ? ';' : ',', relax_column_count: false });

describe('CSV writer', () => {
  it('writes UTF-8 with a BOM, CRLF line ends and the headers of the locale', async () => {
    for (const locale of ['fr-FR', 'en-GB'] as const) {
      for (const kind of [ExportKind.INVOICES, ExportKind.INVOICE_LINES]) {
        const buf = await writeCsv(kind, locale, kind === ExportKind.INVOICES ? [invoiceRow(1)] : [lineRow(1)]);
        expect([...buf.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
        const text = buf.toString('utf8').slice(1);
        expect(text.endsWith('\r\n')).toBe(true);
        expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
        const sep = locale === 'fr-FR' ? ';' : ',';
        expect(text.split('\r\n')[0]).toBe(headersFor(kind, locale).join(sep));
        const records = parseCsv(buf, locale);
        expect(records).toHaveLength(2);
        expect(records[0]).toEqual(headersFor(kind, locale));
      }
    }
  });

  it('writes fr-FR with `;`, decimal commas and dd/mm/yyyy, en-GB with `,`, points and ISO dates', async () => {
    const row = invoiceRow(3, {
      billingDate: '2019-01-31',
      amountDue: '-500.5',
      amountPaid: '1234567.8',
      familyQuotient: '812.5',
      roleNumber: 12,
    });
    const fr = parseCsv(await writeCsv(ExportKind.INVOICES, 'fr-FR', [row]), 'fr-FR');
    const frRow = Object.fromEntries(fr[0].map((h, i) => [h, fr[1][i]]));
    expect(frRow).toMatchObject({
      'Type de pièce': 'avoir',
      'Date de facturation': '31/01/2019',
      'Numéro de rôle': '12',
      Payeur: 'BUSSON Marie',
      'Montant dû': '-500,50', // a negative amount is never guarded
      'Montant payé': '1234567,80', // no thousands separator
      'Quotient familial': '812,50',
      'Identifiant unique': '000003',
      'Identifiant client': '003',
    });

    const enBuf = await writeCsv(ExportKind.INVOICES, 'en-GB', [row]);
    const en = parseCsv(enBuf, 'en-GB');
    const enRow = Object.fromEntries(en[0].map((h, i) => [h, en[1][i]]));
    expect(enRow).toMatchObject({
      'Document type': 'credit note',
      'Billing date': '2019-01-31',
      'Amount due': '-500.50',
      'Amount paid': '1234567.80',
      'Family quotient': '812.50',
    });
    expect(enBuf.toString('utf8')).toContain(',-500.50,');
  });

  it('prints quantities with 3 decimals and VAT rates as stored, empty fields for nulls', async () => {
    const buf = await writeCsv(ExportKind.INVOICE_LINES, 'fr-FR', [
      lineRow(0, { beneficiary: null, analyticCode: null, customerIdentifier: null }),
    ]);
    const [header, values] = parseCsv(buf, 'fr-FR');
    const row = Object.fromEntries(header.map((h, i) => [h, values[i]]));
    expect(row).toMatchObject({
      'N° de ligne': '1',
      Quantité: '1,500',
      'Prix unitaire': '120,00',
      Remise: '-10,00',
      'Taux de TVA': '5,50',
      'Compte comptable': '706100',
      Élève: '',
      'Code analytique': '',
      'Identifiant client': '',
    });
  });

  it('totals every money column to the cent, credit notes negative', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => invoiceRow(i));
    for (const locale of ['fr-FR', 'en-GB'] as const) {
      const [header, ...records] = parseCsv(await writeCsv(ExportKind.INVOICES, locale, rows), locale);
      expect(records).toHaveLength(rows.length);
      const cols = columnsFor(ExportKind.INVOICES);
      for (const key of MONEY_COLUMN_KEYS[ExportKind.INVOICES]) {
        const idx = cols.findIndex((c) => c.key === key);
        expect(header[idx]).toBe(cols[idx].header[locale]);
        const fileTotal = formatCents(records.reduce((t, r) => t + toCents(r[idx].replace(',', '.')), 0n));
        expect(fileTotal).toBe(sumMoney(rows.map((r) => r[key])));
      }
      const typeIdx = 0;
      const dueIdx = cols.findIndex((c) => c.key === 'amountDue');
      for (const r of records) {
        const isCredit = r[typeIdx] === (locale === 'fr-FR' ? 'avoir' : 'credit note');
        expect(toCents(r[dueIdx].replace(',', '.')) < 0n).toBe(isCredit);
      }
    }
  });

  it('round-trips nasty text and guards formulas in text cells only', async () => {
    const nasty: Array<[string, string]> = [
      ['Éloïse-Noël Ñúñez', 'Éloïse-Noël Ñúñez'],
      ['a;b,c', 'a;b,c'],
      ['il a dit "bonjour"', 'il a dit "bonjour"'],
      ['ligne 1\r\nligne 2\nligne 3', 'ligne 1\r\nligne 2\nligne 3'],
      ['🎹🎻 musique', '🎹🎻 musique'],
      ['=HYPERLINK("http://x","y")', `'=HYPERLINK("http://x","y")`],
      ['+33 6 12 34 56 78', `'+33 6 12 34 56 78`],
      ['-2+3', `'-2+3`],
      ['@SUM(A1:A2)', `'@SUM(A1:A2)`],
      ['\tcmd', `'\tcmd`],
      ['\rcmd', `'\rcmd`],
      ['x'.repeat(5000), 'x'.repeat(5000)],
    ];
    const rows = nasty.map(([notes], i) =>
      invoiceRow(i, { notes, payerLastName: notes.slice(0, 40), amountDue: '-500.50' }),
    );
    for (const locale of ['fr-FR', 'en-GB'] as const) {
      const [header, ...records] = parseCsv(await writeCsv(ExportKind.INVOICES, locale, rows), locale);
      const notesIdx = header.indexOf(locale === 'fr-FR' ? 'Notes' : 'Notes');
      const dueIdx = header.indexOf(locale === 'fr-FR' ? 'Montant dû' : 'Amount due');
      expect(records.map((r) => r[notesIdx])).toEqual(nasty.map(([, expected]) => expected));
      expect(records.every((r) => r.length === header.length)).toBe(true);
      expect(new Set(records.map((r) => r[dueIdx]))).toEqual(new Set([locale === 'fr-FR' ? '-500,50' : '-500.50']));
    }
  });

  it('writes only the header for an empty export', async () => {
    const buf = await writeCsv(ExportKind.INVOICE_LINES, 'fr-FR', []);
    expect(buf.toString('utf8')).toBe(`\uFEFF${headersFor(ExportKind.INVOICE_LINES, 'fr-FR').join(';')}\r\n`);
  });

  it('names its content type and extension', () => {
    expect(contentTypeFor(ExportFormat.CSV)).toBe('text/csv; charset=utf-8');
    expect(extensionFor(ExportFormat.CSV)).toBe('csv');
  });

  it('waits for a slow reader instead of buffering (backpressure)', async () => {
    const output = new PassThrough({ highWaterMark: 1024 });
    const writer = openExportFile(ExportKind.INVOICES, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.CSV, locale: 'fr-FR', output }).writer;
    const total = 20_000;
    const note = 'Réduction famille nombreuse, paiement en trois fois. '.repeat(2);
    let maxBuffered = 0;
    const producer = (async () => {
      for (let i = 0; i < total; i++) {
        await writer.writeRow(invoiceRow(i, { notes: note }));
        maxBuffered = Math.max(maxBuffered, output.writableLength + output.readableLength);
      }
      await writer.finish(SUMMARY);
    })();

    // Nobody reads: the writer stops after about one chunk.
    await sleep(200);
    const stalledAt = writer.rowCount;
    await sleep(100);
    expect(writer.rowCount).toBe(stalledAt);
    expect(stalledAt).toBeLessThan(2000);

    // A slow reader: the producer advances, the buffer stays bounded.
    let received = 0;
    let lines = 0;
    output.on('data', (chunk: Buffer) => {
      received += chunk.length;
      for (const b of chunk) if (b === 0x0a) lines++;
      output.pause();
      setTimeout(() => output.resume(), 1);
    });
    await producer;
    expect(lines).toBe(total + 1);
    expect(received).toBeGreaterThan(3_000_000);
    // One 64 KiB chunk (UTF-8 up to 2 bytes per char here) on top of the stream's own buffer.
    expect(maxBuffered).toBeLessThan(200 * 1024);
  });

  it('rejects instead of hanging when the output is destroyed', async () => {
    const output = new PassThrough({ highWaterMark: 1024 });
    const writer = openExportFile(ExportKind.INVOICES, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.CSV, locale: 'fr-FR', output }).writer;
    const producer = (async () => {
      for (let i = 0; i < 100_000; i++) await writer.writeRow(invoiceRow(i));
    })();
    await sleep(50);
    output.destroy(new Error('upload failed'));
    await expect(producer).rejects.toThrow('upload failed');
    await expect(writer.finish(SUMMARY)).rejects.toThrow('upload failed');
  });

  it('rejects rows that break the contract with a clear error', async () => {
    const output = new PassThrough();
    output.resume();
    const writer = openExportFile(ExportKind.INVOICES, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.CSV, locale: 'fr-FR', output }).writer;
    await expect(writer.writeRow(invoiceRow(1, { billingDate: new Date() as unknown as string }))).rejects.toThrow(
      /yyyy-mm-dd/,
    );
    await expect(writer.writeRow(invoiceRow(1, { amountDue: 'NaN' }))).rejects.toThrow(/decimal/);
  });

  it('abort() releases a writer blocked by a reader that stopped reading', async () => {
    const output = new PassThrough({ highWaterMark: 1024 });
    const writer = openExportFile(ExportKind.INVOICES, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.CSV, locale: 'en-GB', output }).writer;
    const producer = (async () => {
      for (let i = 0; i < 100_000; i++) await writer.writeRow(invoiceRow(i));
    })();
    await sleep(50);
    expect(writer.rowCount).toBeLessThan(100_000);
    writer.abort(new Error('export cancelled'));
    await expect(producer).rejects.toThrow('export cancelled');
    expect(output.destroyed).toBe(true);
  });
});
