/**
 * The pieces of "Exporter les écritures comptables" that need no database:
 * VAT rounding, the entry of one document, ISO-8859-15 text, settings checks,
 * the fiscal year of the file name, and the FEC writer's bytes.
 */
import { PassThrough } from 'node:stream';
import { buildEntry, type AccountingSourceRow, type DocumentFields, type FirstSourceRow } from '../../src/accounting/entries';
import { AccountingEntriesWriter } from '../../src/exports/kinds/accounting-entries-writer';
import { decodeLatin9, toLatin9Text } from '../../src/accounting/fec-text';
import { DEFAULT_ACCOUNTING_SETTINGS, accountingSettingsProblems, fiscalYearEndOf } from '../../src/accounting/settings';
import { includedVatCents, rateHundredths } from '../../src/accounting/vat';
import { ExportFormat, ExportKind, InvoiceType } from '../../src/entities/enums';
import { ExportRefusal } from '../../src/errors';
import { EXPORT_KINDS, checkExportKinds, openExportFile, resolveExportFormat } from '../../src/exports/kinds';
import { fecNaming } from '../../src/accounting/fec-name';
import { sirenPassesLuhn } from '../../src/accounting/settings';
import { toCents } from '../../src/money';

const AT = new Date('2026-12-02T10:00:00Z');

const settings = { ...DEFAULT_ACCOUNTING_SETTINGS, vatAccounts: { ...DEFAULT_ACCOUNTING_SETTINGS.vatAccounts }, accountLabels: { '706100': 'Cours' } };
const ctx = { settings, validDate: '2026-12-02' };

function doc(over: Partial<DocumentFields & { invoiceId: string }>, lines: [amount: string, rate?: string, account?: string | null][]): FirstSourceRow[] {
  const base: FirstSourceRow = {
    invoiceId: '00000000-0000-4000-8000-000000000001', type: InvoiceType.INVOICE, number: 'F163881', billingDate: '2019-01-25',
    amountDue: '0.00', payerLastName: 'BUSSON', payerFirstName: 'Marie', customerIdentifier: '000417',
    position: null, label: null, amount: null, vatRate: null, accountingAccount: null, analyticCode: null, ...over,
  };
  if (!lines.length) return [base];
  return lines.map(([amount, rate = '0.00', account = null], i) => ({ ...base, position: i + 1, label: `Ligne ${i + 1}`, amount, vatRate: rate, accountingAccount: account, analyticCode: `AN${i + 1}` }));
}

describe('VAT included in an amount, half-up per billing line', () => {
  it.each([
    ['10.00', '5.50', '0.52'],
    ['0.05', '20.00', '0.01'],
    ['120.00', '20.00', '20.00'],
    ['-10.00', '5.50', '-0.52'],
    ['100.00', '0.00', '0.00'],
    ['0.06', '20.00', '0.01'],
    ['1.05', '5.00', '0.05'], // 0.05 exactly: half-up
    ['-1.05', '5.00', '-0.05'],
    ['2.10', '10.00', '0.19'],
  ])('%s at %s %% → VAT %s', (amount, rate, vat) => {
    expect(includedVatCents(toCents(amount), rateHundredths(rate))).toBe(toCents(vat));
  });
});

describe('buildEntry', () => {
  it('an invoice debits the receivable and credits revenue and VAT; a discount goes on the debit side', () => {
    const rows = doc({ amountDue: '190.00' }, [['120.00', '20.00', '706200'], ['100.00', '0.00', '706100'], ['-30.00', '0.00', '706100']]);
    const e = buildEntry(7, rows, ctx);
    expect(e.lines.map((l) => [l.CompteNum, l.CompteLib, l.CompAuxNum, l.EcritureLib, l.Debit, l.Credit])).toEqual([
      ['411000', 'Clients', '000417', 'Facture F163881 BUSSON Marie', '190.00', '0.00'],
      ['706200', 'Compte 706200', null, 'Ligne 1', '0.00', '100.00'],
      ['706100', 'Cours', null, 'Ligne 2', '0.00', '100.00'],
      ['706100', 'Cours', null, 'Ligne 3', '30.00', '0.00'],
      ['445710', 'TVA collectée', null, 'TVA 20,00 %', '0.00', '20.00'],
    ]);
    expect(e.lines.every((l) => l.EcritureNum === 7 && l.PieceRef === 'F163881' && l.EcritureDate === '2019-01-25' && l.ValidDate === '2026-12-02')).toBe(true);
    expect(e.lines.map((l) => l.CodeAnalytique)).toEqual([null, 'AN1', 'AN2', 'AN3', null]);
    expect(e.debit).toBe(e.credit);
    expect(e.receivable).toBe(19000n);
  });

  it("reads the document's fields from its first row, as the SELECT sends them (null on the other rows), and refuses rows that do not start with it", () => {
    const full = doc({ amountDue: '190.00' }, [['120.00', '20.00', '706200'], ['100.00', '0.00', '706100'], ['-30.00', '0.00', '706100']]);
    const nulls = { type: null, number: null, billingDate: null, amountDue: null, payerLastName: null, payerFirstName: null, customerIdentifier: null };
    const sent: AccountingSourceRow[] = full.map((r, i) => (i === 0 ? r : { ...r, ...nulls }));
    expect(buildEntry(7, sent, ctx)).toEqual(buildEntry(7, full, ctx));
    expect(buildEntry(7, sent, ctx).lines.map((l) => l.signedCents)).toEqual([19000n, -10000n, -10000n, 3000n, -2000n]);
    expect(() => buildEntry(7, sent.slice(1), ctx)).toThrow(/do not start with its first line/);
  });

  it('a credit note is the reverse, and a payer without identifier gets the fallback account', () => {
    const rows = doc({ type: InvoiceType.CREDIT_NOTE, number: 'A000001', amountDue: '-500.50', customerIdentifier: null, payerLastName: 'NORWAY', payerFirstName: 'Julien' }, [['-500.50', '5.50']]);
    const e = buildEntry(1, rows, ctx);
    expect(e.lines.map((l) => [l.CompteNum, l.CompAuxNum, l.CompAuxLib, l.EcritureLib, l.Debit, l.Credit])).toEqual([
      ['411000', 'DIVERS', 'NORWAY Julien', 'Avoir A000001 NORWAY Julien', '0.00', '500.50'],
      ['706000', null, null, 'Ligne 1', '474.41', '0.00'],
      ['445711', null, null, 'TVA 5,50 %', '26.09', '0.00'],
    ]);
    expect(e.usedFallbackAccount).toBe(true);
    expect(e.receivable).toBe(-50050n);
  });

  it('VAT is rounded per billing line and summed per rate; zero lines are skipped', () => {
    const rows = doc({ amountDue: '0.15' }, [['0.05', '20.00'], ['0.05', '20.00'], ['0.05', '20.00'], ['0.00', '5.50']]);
    const e = buildEntry(1, rows, ctx);
    const vat = e.lines.filter((l) => l.CompteNum === '445710');
    expect(vat).toHaveLength(1);
    expect(vat[0].Credit).toBe('0.03'); // 3 × round(0.05 × 20/120 = 0.0083) = 3 × 0.01
    expect(e.lines).toHaveLength(1 + 3 + 1);
    const rows2 = doc({ amountDue: '0.12' }, [['0.06', '20.00'], ['0.06', '20.00']]);
    expect(buildEntry(1, rows2, ctx).lines.find((l) => l.CompteNum === '445710')!.Credit).toBe('0.02'); // per line: 0.01 + 0.01
  });

  it('a document without lines is a zero receivable line', () => {
    const e = buildEntry(1, doc({ amountDue: '0.00' }, []), ctx);
    expect(e.lines.map((l) => [l.Debit, l.Credit])).toEqual([['0.00', '0.00']]);
  });

  it('refuses a document whose lines do not add up to its amount due', () => {
    expect(() => buildEntry(1, doc({ amountDue: '100.00' }, [['99.99']]), ctx)).toThrow(ExportRefusal);
    try {
      buildEntry(1, doc({ amountDue: '100.00' }, [['99.99']]), ctx);
    } catch (err) {
      expect((err as ExportRefusal).code).toBe('UNBALANCED_ENTRIES');
      expect((err as Error).message).toMatch(/F163881.*99\.99.*100\.00/);
    }
  });

  it('refuses a VAT rate without an account, naming the rate', () => {
    expect(() => buildEntry(1, doc({ amountDue: '10.00' }, [['10.00', '8.50']]), ctx)).toThrow(/rate 8,50 %.*vatAccounts\["8.50"\]/);
  });
});

describe('ISO-8859-15 text', () => {
  const bytes = (s: string) => [...Buffer.from(toLatin9Text(s), 'latin1')];
  it('keeps what the charset has, with its ISO-8859-15 byte', () => {
    expect(toLatin9Text('é è à ç ù ÿ')).toBe('é è à ç ù ÿ');
    expect(bytes('€')).toEqual([0xa4]);
    expect(bytes('ŒœŠšŽžŸ')).toEqual([0xbc, 0xbd, 0xa6, 0xa8, 0xb4, 0xb8, 0xbe]);
  });
  it('transliterates letters it lacks, and turns the rest into ?', () => {
    expect(toLatin9Text('ỄN')).toBe('EN');
    expect(toLatin9Text('Zoé 🎻')).toBe('Zoé ?');
    expect(toLatin9Text('❤️')).toBe('?');
    expect(toLatin9Text('Łódź')).toBe('Lódz'); // ó is in the charset, Ł and ź are not
    expect(toLatin9Text('l’été – “ok”…')).toBe(`l'été - "ok"...`);
    expect(toLatin9Text('e\u0301')).toBe('é'); // decomposed input
  });
  it('turns separators into spaces, and the latin-1 characters ISO-8859-15 replaced into ?', () => {
    expect(toLatin9Text('a\tb|c\r\nd')).toBe('a b c  d');
    expect(toLatin9Text('¤¦¨´¸¼½¾')).toBe('????????');
  });
  it('decodes back', () => {
    expect(decodeLatin9(Buffer.from(toLatin9Text('€ Œuvre ỄN'), 'latin1'))).toBe('€ Œuvre EN');
  });
});

describe('accounting settings', () => {
  it('accepts the defaults', () => {
    expect(accountingSettingsProblems(DEFAULT_ACCOUNTING_SETTINGS)).toEqual([]);
  });
  it.each([
    [{ receivableAccount: '411 000' }, /receivableAccount/],
    [{ journalCode: 'vt' }, /journalCode/],
    [{ defaultRevenueAccount: 'X'.repeat(21) }, /defaultRevenueAccount/],
    [{ vatAccounts: { '20': '445710' } }, /vatAccounts: the rate "20"/],
    [{ vatAccounts: { '20.00': '4457-10' } }, /vatAccounts\["20.00"\]/],
    [{ fiscalYearEnd: '02-30' }, /fiscalYearEnd/],
    [{ fiscalYearEnd: '13-01' }, /fiscalYearEnd/],
    [{ fiscalYearEnd: '2026-12-31' }, /fiscalYearEnd/],
    [{ accountLabels: { '706100': '' } }, /accountLabels\["706100"\]/],
    [{ fallbackAuxiliaryAccount: '' }, /fallbackAuxiliaryAccount/],
  ])('refuses %j naming the field', (patch, message) => {
    const problems = accountingSettingsProblems(patch as never);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
  it.each([
    ['2026-09-15', '08-31', '20270831'],
    ['2026-08-31', '08-31', '20260831'],
    ['2026-01-01', '12-31', '20261231'],
    ['2026-12-31', '12-31', '20261231'],
  ])('the fiscal year holding %s (end %s) ends on %s', (date, end, expected) => {
    expect(fiscalYearEndOf(date, end)).toBe(expected);
  });
  it('a SIREN is 9 digits that pass the Luhn check', () => {
    expect(sirenPassesLuhn('318257409')).toBe(true);
    expect(sirenPassesLuhn('732829320')).toBe(true);
    expect(sirenPassesLuhn('123456789')).toBe(false);
    expect(sirenPassesLuhn('31825740')).toBe(false);
    expect(sirenPassesLuhn('31825740A')).toBe(false);
  });

  it("the FEC's statutory name only within one fiscal year and with a valid SIREN (docs/accounting.md)", () => {
    expect(fecNaming('318 257 409', '2025-01-01', '2025-12-31', '12-31', '2026-12-02')).toEqual({ statutoryName: '318257409FEC20251231.txt', warnings: [], previousYearEnd: null });
    expect(fecNaming('318257409', '2024-09-01', '2025-06-30', '08-31', '2026-12-02').statutoryName).toBe('318257409FEC20250831.txt');
    expect(fecNaming('318257409', '2024-08-31', '2025-06-30', '08-31', '2026-12-02')).toEqual({ statutoryName: null, warnings: ['SPANS_FISCAL_YEARS'], previousYearEnd: '2024-08-31' });
    expect(fecNaming('123456789', '2025-01-01', '2025-01-02', '12-31', '2026-12-02')).toEqual({ statutoryName: null, warnings: ['SIREN_INVALID'], previousYearEnd: null });
    expect(fecNaming(null, '2024-01-01', '2025-01-02', '12-31', '2026-12-02')).toEqual({ statutoryName: null, warnings: ['SPANS_FISCAL_YEARS'], previousYearEnd: '2024-12-31' });
    expect(fecNaming('', '2025-01-01', '2025-01-02', '12-31', '2026-12-02').warnings).toEqual([]);
  });
});

describe('the registry of kinds', () => {
  it('has every kind, consistent', () => {
    expect(() => checkExportKinds()).not.toThrow();
    expect(Object.keys(EXPORT_KINDS).sort()).toEqual(Object.values(ExportKind).sort());
  });
  it('defaults the format per kind and refuses FEC for the other kinds', () => {
    expect(resolveExportFormat(ExportKind.INVOICES, null)).toBe(ExportFormat.XLSX);
    expect(resolveExportFormat(ExportKind.INVOICE_LINES, undefined)).toBe(ExportFormat.XLSX);
    expect(resolveExportFormat(ExportKind.ACCOUNTING_ENTRIES, null)).toBe(ExportFormat.FEC);
    expect(resolveExportFormat(ExportKind.ACCOUNTING_ENTRIES, ExportFormat.CSV)).toBe(ExportFormat.CSV);
    expect(() => resolveExportFormat(ExportKind.INVOICES, ExportFormat.FEC)).toThrow(/INVOICES export is written as XLSX, CSV, not FEC/);
  });
});

describe('the FEC writer through the entries writer', () => {
  async function fec(rowsOfDocs: FirstSourceRow[][]): Promise<Buffer> {
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (c: Buffer) => chunks.push(c));
    const inner = openExportFile(ExportKind.ACCOUNTING_ENTRIES, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.FEC, locale: 'fr-FR', output }).writer;
    const writer = new AccountingEntriesWriter(inner, ctx, { payersWithoutIdentifier: 0, alreadyTransferred: 0 });
    let due = 0n;
    for (const rows of rowsOfDocs) {
      due += toCents(rows[0].amountDue);
      for (const r of rows) await writer.writeRow(r);
    }
    const invoices = rowsOfDocs.length;
    const totalDue = `${due / 100n}.${String(due % 100n).padStart(2, '0')}`;
    await writer.finish({ tenantName: 't', requestedBy: 'u', requestedAt: new Date(), generatedAt: new Date(), selection: '', invoiceCount: invoices, creditNoteCount: 0, rowCount: 0, totalDue, totalPaid: '0.00', totalRemaining: '0.00' });
    return Buffer.concat(chunks);
  }

  it('writes the header, tab-separated fields, CRLF, AAAAMMJJ dates and decimal commas', async () => {
    const buf = await fec([doc({ amountDue: '12.00', payerLastName: 'ÉTÉ|X', payerFirstName: 'Zoé\t🎻' }, [['12.00', '20.00']])]);
    const text = decodeLatin9(buf);
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise');
    expect(lines[1]).toBe('VT\tVentes\t1\t20190125\t411000\tClients\t000417\tÉTÉ X Zoé ?\tF163881\t20190125\tFacture F163881 ÉTÉ X Zoé ?\t12,00\t0,00\t\t\t20261202\t\t');
    expect(lines[2]).toBe('VT\tVentes\t1\t20190125\t706000\tPrestations de services\t\t\tF163881\t20190125\tLigne 1\t0,00\t10,00\t\t\t20261202\t\t');
    expect(lines[3]).toBe('VT\tVentes\t1\t20190125\t445710\tTVA collectée\t\t\tF163881\t20190125\tTVA 20,00 %\t0,00\t2,00\t\t\t20261202\t\t');
    expect(lines[4]).toBe('');
    expect(lines).toHaveLength(5);
    expect(lines.slice(0, 4).every((l) => l.split('\t').length === 18)).toBe(true);
  });

  it('refuses to finish a file whose receivable total is not the selection amount due', async () => {
    const output = new PassThrough();
    output.resume();
    const inner = openExportFile(ExportKind.ACCOUNTING_ENTRIES, { at: AT, timeZone: 'Europe/Paris', format: ExportFormat.FEC, locale: 'fr-FR', output }).writer;
    const writer = new AccountingEntriesWriter(inner, ctx, { payersWithoutIdentifier: 0, alreadyTransferred: 0 });
    for (const r of doc({ amountDue: '12.00' }, [['12.00']])) await writer.writeRow(r);
    await expect(
      writer.finish({ tenantName: 't', requestedBy: 'u', requestedAt: new Date(), generatedAt: new Date(), selection: '', invoiceCount: 1, creditNoteCount: 0, rowCount: 0, totalDue: '13.00', totalPaid: '0', totalRemaining: '0' }),
    ).rejects.toMatchObject({ code: 'UNBALANCED_ENTRIES' });
  });
});
