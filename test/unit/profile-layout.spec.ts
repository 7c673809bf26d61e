import iconv from 'iconv-lite';
import { ExportFormat, ExportKind } from '../../src/entities/enums';
import { toWindows1252Text, windows1252Bytes } from '../../src/exports/writers/windows-1252';
import { renderFileName, validateFileNamePattern } from '../../src/profiles/file-name-pattern';
import { validateColumnChoice, validateCsvOptions } from '../../src/profiles/layout-input';

describe('Windows-1252 text', () => {
  it('keeps what the code page has, as one byte each (é, €, Œ, “ ”, …)', () => {
    const text = 'Héloïse paie 12 € — « Œuvre » “ok” …';
    const bytes = windows1252Bytes(text);
    expect(bytes.length).toBe([...text].length);
    expect(iconv.decode(bytes, 'windows-1252')).toBe(text);
    expect(bytes[text.indexOf('€')]).toBe(0x80); // €
  });

  it('transliterates what it lacks before encoding (ř → r, ő → o, Ł → L; á is kept), emoji become ?', () => {
    expect(toWindows1252Text('Dvořák Erdős Łukasz 🎻')).toBe('Dvorák Erdos Lukasz ?');
    // A decomposed é (e + U+0301) is the é the page has.
    expect(windows1252Bytes('e\u0301')).toEqual(Buffer.from([0xe9]));
    // Tabs and line breaks stay: CSV quoting carries them.
    expect(toWindows1252Text('a\tb\r\nc')).toBe('a\tb\r\nc');
  });
});

describe('file name patterns', () => {
  it.each(['../x', 'a/b', 'a b', '.hidden', 'x\\y', 'x{user}', 'nul\u0000'])('refuses %j', (p) => {
    expect(() => validateFileNamePattern(p)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });

  it('fills the placeholders on the tenant’s wall clock and adds the extension once', () => {
    const v = { kindStem: 'factures', extension: 'csv', at: new Date('2026-11-30T23:30:00Z'), timeZone: 'Europe/Paris', tenantName: 'École de musique' };
    expect(renderFileName('{tenant}_{kind}_{date}-{time}', v)).toBe('Ecole-de-musique_factures_20261201-0030.csv');
    expect(renderFileName('export.csv', v)).toBe('export.csv');
  });
});

describe('column choices and CSV options', () => {
  it('names the offending key', () => {
    expect(() => validateColumnChoice(ExportKind.INVOICES, ExportFormat.CSV, [{ key: 'numero' }])).toThrow(/"numero"/);
    expect(() => validateColumnChoice(ExportKind.INVOICES, ExportFormat.CSV, [{ key: 'payer' }, { key: 'payer' }])).toThrow(/"payer" twice/);
    expect(() => validateColumnChoice(ExportKind.INVOICES, ExportFormat.CSV, [])).toThrow(/empty/);
    expect(() => validateColumnChoice(ExportKind.ACCOUNTING_ENTRIES, ExportFormat.FEC, [{ key: 'JournalCode' }])).toThrow(/FEC/);
  });

  it('fills the defaults of docs/profiles.md', () => {
    expect(validateCsvOptions(ExportFormat.CSV, {})).toEqual({ encoding: 'UTF8_BOM', separator: ';', decimalSeparator: ',', dateFormat: 'dd/mm/yyyy', header: true });
    expect(() => validateCsvOptions(ExportFormat.CSV, { separator: '|' })).toThrow(/separator/);
  });
});
