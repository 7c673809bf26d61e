/**
 * The XLSX writer serialises data rows itself (see src/exports/writers/xlsx.ts),
 * so its files are also read by an office suite that shares no code with
 * exceljs: LibreOffice, headless, converting each sheet to CSV. Skipped where
 * LibreOffice is not installed (Debian: apt-get install libreoffice-calc-nogui).
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { BillingPeriod, ExportFormat, ExportKind, InvoiceStatus, InvoiceType, PaymentMethod } from '../../src/entities/enums';
import type { InvoiceRow } from '../../src/exports/columns';
import { openExportFile } from '../../src/exports/kinds';

const AT = new Date('2026-12-02T10:00:00Z');

function soffice(): string | null {
  for (const bin of ['soffice', 'libreoffice']) {
    try {
      execFileSync('which', [bin], { stdio: 'ignore' });
      return bin;
    } catch {
      // next
    }
  }
  return null;
}

const bin = soffice();
const maybe = bin ? it : it.skip;
if (!bin) console.warn('LibreOffice not installed: the independent XLSX read is skipped');

const NASTY = ['=HYPERLINK("http://x","y")', '+33 6 12 34 56 78', '-2+3', '@SUM(A1:A2)', 'Zoé 🎻; "quoted"\nsecond line', 'é'.repeat(5000)];

function row(i: number): InvoiceRow {
  const credit = i === 3;
  return {
    type: credit ? InvoiceType.CREDIT_NOTE : InvoiceType.INVOICE,
    number: `${credit ? 'A' : 'F'}00000${i}`,
    billingDate: ['2019-01-01', '2019-12-31', '2016-05-26', '2020-02-29', '2024-07-14', '2001-01-01'][i],
    roleNumber: i === 0 ? null : 300 + i,
    payerLastName: 'BUSSON',
    payerFirstName: NASTY[i],
    billingPeriod: BillingPeriod.ANNUAL,
    billingYear: '2018/2019',
    notes: NASTY[(i + 1) % NASTY.length],
    amountDue: credit ? '-500.50' : `${1000 + i}.0${i}`,
    amountPaid: '0.00',
    remainingDue: credit ? '0.00' : `${1000 + i}.0${i}`,
    pendingCollection: '0.00',
    status: credit ? InvoiceStatus.SETTLED : InvoiceStatus.TO_COLLECT,
    uniqueIdentifier: '39801',
    customerIdentifier: '000417',
    familyQuotient: i % 2 ? '812.50' : null,
    paymentMethod: PaymentMethod.CHEQUE,
  };
}

maybe('LibreOffice reads the same cells: text as text, dates as dates, amounts to the cent', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'xlsx-lo-'));
  try {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const writer = openExportFile(ExportKind.INVOICES, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.XLSX, locale: 'fr-FR', output: out }).writer;
    const rows = [0, 1, 2, 3, 4, 5].map(row);
    for (const r of rows) await writer.writeRow(r);
    await writer.finish({
      tenantName: 'École', requestedBy: 'u', requestedAt: new Date(), generatedAt: new Date(), selection: 'Tous les résultats',
      invoiceCount: 5, creditNoteCount: 1, rowCount: 6, totalDue: '4515.15', totalPaid: '0.00', totalRemaining: '5015.65',
    });
    const file = path.join(dir, 'factures.xlsx');
    await fs.writeFile(file, Buffer.concat(chunks));
    // Every sheet to CSV: ';', '"', UTF-8 (76), formatted values as shown, one file per sheet (-1).
    execFileSync(bin!, ['--headless', `-env:UserInstallation=file://${dir}/profile`, '--convert-to', 'csv:Text - txt - csv (StarCalc):59,34,76,1,,0,false,true,true,false,false,-1', file, '--outdir', dir], {
      stdio: 'ignore',
      timeout: 90_000,
    });
    const data: string[][] = parse(await fs.readFile(path.join(dir, 'factures-Factures et avoirs.csv')), { delimiter: ';', relax_column_count: true });
    expect(data[0].slice(0, 3)).toEqual(['Type de pièce', 'N° de pièce', 'Date de facturation']);
    const body = data.slice(1);
    expect(body.map((r) => r[1])).toEqual(rows.map((r) => r.number));
    // dd/mm/yyyy as shown to the user, the invoice's own calendar date.
    expect(body.map((r) => r[2])).toEqual(['01/01/2019', '31/12/2019', '26/05/2016', '29/02/2020', '14/07/2024', '01/01/2001']);
    // Text stays text, payloads included (never evaluated as formulas).
    expect(body.map((r) => r[4])).toEqual(rows.map((r) => `BUSSON ${r.payerFirstName}`));
    expect(body.map((r) => r[7])).toEqual(rows.map((r) => r.notes));
    expect(body.map((r) => r[14])).toEqual(rows.map(() => '000417'));
    // Amounts as displayed with two decimals (LibreOffice's default locale here: 1,000.00), back to cents exactly.
    const cents = (s: string) => {
      expect(s).toMatch(/^-?\d{1,3}(,\d{3})*\.\d{2}$/);
      return BigInt(s.replace(/[,.]/g, ''));
    };
    expect(body.map((r) => cents(r[8]))).toEqual(rows.map((r) => BigInt(r.amountDue.replace('.', ''))));
    expect(body[3][8]).toBe('-500.50');
    expect(await fs.readdir(dir)).toContain('factures-Résumé.csv');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}, 120_000);
