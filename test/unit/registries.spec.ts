import { PassThrough } from 'node:stream';
import { ExportFormat, ExportKind } from '../../src/entities/enums';
import { column, selectList } from '../../src/exports/cells';
import { columnsFor } from '../../src/exports/columns';
import { EXPORT_FORMATS, contentTypeFor, exportFormat, extensionFor, formatsAccepting } from '../../src/exports/formats';
import { EXPORT_KINDS, exportColumns, exportFileName, formatsOf, openExportFile, resolveExportFormat } from '../../src/exports/kinds';
import { allInvoices } from '../../bench/lib/sql';
import { fixedWidthField, formatCalendarDate, textCellFormatter } from '../../src/exports/writers/text-cells';

/** The registries a new format, kind or column is added to (docs/architecture.md, "Adding a format, a kind, a column, a policy"): what they promise. */

describe('the format registry', () => {
  it('gives each format its extension, content type and the kinds that accept it', () => {
    expect(Object.values(EXPORT_FORMATS).map((f) => [f.format, f.extension, f.contentType, [...f.kinds]])).toEqual([
      ['XLSX', 'xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ['INVOICES', 'INVOICE_LINES', 'ACCOUNTING_ENTRIES']],
      ['CSV', 'csv', 'text/csv; charset=utf-8', ['INVOICES', 'INVOICE_LINES', 'ACCOUNTING_ENTRIES']],
      ['FEC', 'txt', 'text/plain; charset=ISO-8859-15', ['ACCOUNTING_ENTRIES']],
      ['QUADRA', 'txt', 'text/plain; charset=us-ascii', ['ACCOUNTING_ENTRIES']],
      ['XIMPORT', 'TXT', 'text/plain; charset=windows-1252', ['ACCOUNTING_ENTRIES']],
      ['EBP', 'txt', 'text/plain; charset=windows-1252', ['ACCOUNTING_ENTRIES']],
      ['CEGID', 'txt', 'text/plain; charset=windows-1252', ['ACCOUNTING_ENTRIES']],
      ['SAGE100', 'txt', 'text/plain; charset=utf-8', ['ACCOUNTING_ENTRIES']],
    ]);
    // A profile's CSV layout in Windows-1252 says so in the content type.
    const layout = { profileId: null, profileName: null, columns: null, fileNamePattern: null };
    expect(contentTypeFor(ExportFormat.CSV, { ...layout, csv: { encoding: 'WINDOWS_1252', separator: ';', decimalSeparator: ',', dateFormat: 'dd/mm/yyyy', header: true } })).toBe('text/csv; charset=windows-1252');
    expect(contentTypeFor(ExportFormat.CSV, { ...layout, csv: null })).toBe('text/csv; charset=utf-8');
    expect(extensionFor(ExportFormat.FEC)).toBe('txt');
    expect(contentTypeFor(ExportFormat.CSV)).toBe('text/csv; charset=utf-8');
    expect(() => exportFormat('PDF' as ExportFormat)).toThrow('Unknown export format: PDF');
    expect(formatsAccepting(ExportKind.INVOICES)).toEqual(['XLSX', 'CSV']);
  });

  it("lists a kind's formats with its default first; a request for another format is refused, naming them", () => {
    expect(formatsOf(ExportKind.INVOICES)).toEqual(['XLSX', 'CSV']);
    expect(formatsOf(ExportKind.ACCOUNTING_ENTRIES)).toEqual(['FEC', 'XLSX', 'CSV', 'QUADRA', 'XIMPORT', 'EBP', 'CEGID', 'SAGE100']);
    expect(resolveExportFormat(ExportKind.ACCOUNTING_ENTRIES, null)).toBe('FEC');
    expect(() => resolveExportFormat(ExportKind.INVOICE_LINES, ExportFormat.FEC)).toThrow('The INVOICE_LINES export is written as XLSX, CSV, not FEC');
  });

  it("names files by the format's rule: stamped, or the FEC's statutory name when the kind vouches for it", () => {
    const at = new Date('2026-11-27T22:45:59Z');
    expect(exportFileName(ExportKind.ACCOUNTING_ENTRIES, ExportFormat.FEC, 'fr-FR', at, 'Europe/Paris')).toBe('ecritures-comptables_20261127-2345.txt');
    const fec = EXPORT_FORMATS[ExportFormat.FEC];
    expect(fec.fileName({ stem: 'x', at, timeZone: 'UTC', statutoryName: '732829320FEC20261231.txt' })).toBe('732829320FEC20261231.txt');
    // The statutory name means nothing to another format; an importer may fix its own.
    expect(EXPORT_FORMATS[ExportFormat.CSV].fileName({ stem: 'x', at, timeZone: 'UTC', statutoryName: '732829320FEC20261231.txt' })).toBe('x_20261127-2245.csv');
    expect(EXPORT_FORMATS[ExportFormat.XIMPORT].fileName({ stem: 'x', at, timeZone: 'UTC' })).toBe('XIMPORT.TXT');
    expect(EXPORT_FORMATS[ExportFormat.QUADRA].fileName({ stem: 'x', at, timeZone: 'UTC' })).toBe('x_20261127-2245.txt');
  });

  it("opens a kind's file through the registry: the writer of the format over the kind's columns", async () => {
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (c: Buffer) => chunks.push(c));
    const file = openExportFile(ExportKind.INVOICE_LINES, { format: ExportFormat.CSV, locale: 'en-GB', output, at: new Date('2026-01-02T03:04:00Z'), timeZone: 'UTC' });
    expect(file.fileName).toBe('invoice-lines_20260102-0304.csv');
    await file.writer.finish({ tenantName: '', requestedBy: '', requestedAt: new Date(0), generatedAt: new Date(0), selection: '', invoiceCount: 0, creditNoteCount: 0, rowCount: 0, totalDue: '0', totalPaid: '0', totalRemaining: '0' });
    expect(Buffer.concat(chunks).toString('utf8').split('\r\n')[0]).toBe('\uFEFF' + exportColumns(ExportKind.INVOICE_LINES, 'en-GB').map((c) => c.header).join(','));
  });
});

describe('the columns of a kind', () => {
  it('are listable per kind with stable camelCase keys, headers in the locale and cell types', () => {
    expect(exportColumns(ExportKind.INVOICES, 'fr-FR').slice(0, 5)).toEqual([
      { key: 'type', header: 'Type de pièce', type: 'text' },
      { key: 'number', header: 'N° de pièce', type: 'code' },
      { key: 'billingDate', header: 'Date de facturation', type: 'date' },
      { key: 'roleNumber', header: 'Numéro de rôle', type: 'integer' },
      { key: 'payer', header: 'Payeur', type: 'text' },
    ]);
    for (const kind of [ExportKind.INVOICES, ExportKind.INVOICE_LINES]) {
      for (const c of exportColumns(kind, 'en-GB')) expect(c.key).toMatch(/^[a-z][A-Za-z]*$/);
    }
    expect(exportColumns(ExportKind.INVOICE_LINES, 'en-GB').map((c) => c.key)).toEqual([
      'type', 'number', 'billingDate', 'payer', 'customerIdentifier', 'billingYear', 'billingPeriod', 'position', 'label',
      'beneficiary', 'activity', 'quantity', 'unitPrice', 'discountAmount', 'amount', 'vatRate', 'accountingAccount', 'analyticCode',
    ]);
  });

  it("derive the kind's SELECT list: every field a column reads, once, under its alias", () => {
    const { text } = EXPORT_KINDS[ExportKind.INVOICES].rowsQuery('00000000-0000-0000-0000-000000000001', allInvoices('2026-01-01T00:00:00Z'));
    expect(text).toContain('p.last_name AS "payerLastName", p.first_name AS "payerFirstName"');
    expect(text).toContain('i.amount_due AS "amountDue"');
    expect(text.match(/ AS "/g)).toHaveLength(18); // 17 columns, the payer reads two fields
  });

  it('refuse two entries that read one alias with different SQL', () => {
    const a = column<{ amount: string }>({ key: 'a', select: { amount: 'l.amount' }, header: { 'fr-FR': 'a', 'en-GB': 'a' }, type: 'money', scale: 2, width: 9, value: (r) => r.amount });
    const b = column<{ amount: string }>({ key: 'b', select: { amount: 'i.amount_due' }, header: { 'fr-FR': 'b', 'en-GB': 'b' }, type: 'money', scale: 2, width: 9, value: (r) => r.amount });
    expect(selectList([a, a])).toBe('l.amount AS "amount"');
    expect(() => selectList([a, b])).toThrow('The field "amount" is selected as l.amount and as i.amount_due');
  });
});

describe('text cells, shared by every text format', () => {
  it('write dates in each layout an importer asks for, and refuse what is not a calendar date', () => {
    expect(['dd/mm/yyyy', 'yyyy-mm-dd', 'yyyymmdd', 'ddmmyyyy', 'ddmmyy'].map((l) => formatCalendarDate('2026-03-09', l as never))).toEqual([
      '09/03/2026', '2026-03-09', '20260309', '09032026', '090326',
    ]);
    expect(() => formatCalendarDate('9/3/2026', 'yyyymmdd')).toThrow('Expected a calendar date "yyyy-mm-dd", got "9/3/2026"');
  });

  it("format each cell type by the format's separator, date layout and text rule", () => {
    const style = { locale: 'fr-FR' as const, decimalSeparator: ',', dateLayout: 'ddmmyy' as const, text: (v: string) => v.toUpperCase() };
    const cells = columnsFor(ExportKind.INVOICES).map((c) => textCellFormatter(c, style));
    const row = { type: 'CREDIT_NOTE', number: 'a-1', billingDate: '2026-03-09', roleNumber: 7, payerLastName: 'Dupont', payerFirstName: 'Léa', billingPeriod: 'ANNUAL', billingYear: '2025/2026', notes: null, amountDue: '-10.5', amountPaid: '0', remainingDue: '-10.50', pendingCollection: '0.00', status: 'PAID', uniqueIdentifier: null, customerIdentifier: '000417', familyQuotient: '512.345', paymentMethod: null };
    expect(cells.map((f) => f(row as never))).toEqual([
      'AVOIR', 'A-1', '090326', '7', 'DUPONT LÉA', 'ANNUEL', '2025/2026', '', '-10,50', '0,00', '-10,50', '0,00', 'ENCAISSÉE', '', '000417', '512,35', '',
    ]);
  });

  it('pad fixed-width fields and refuse what does not fit', () => {
    expect(fixedWidthField('411', 8)).toBe('411     ');
    expect(fixedWidthField('1250', 10, 'right', '0')).toBe('0000001250');
    expect(() => fixedWidthField('123456789', 8)).toThrow('"123456789" does not fit in 8 characters');
  });
});
