import { ExportFormat, ExportKind } from '../../src/entities/enums';
import { extensionFor } from '../../src/exports/formats';
import { exportFileName } from '../../src/exports/kinds';
import { zonedDateTimeParts } from '../../src/exports/zoned-time';

describe('exportFileName', () => {
  const at = new Date('2026-11-27T22:45:59Z');

  it('names each kind in each locale, stamped on the tenant clock', () => {
    expect(exportFileName(ExportKind.INVOICES, ExportFormat.XLSX, 'fr-FR', at, 'Europe/Paris')).toBe(
      'factures_20261127-2345.xlsx',
    );
    expect(exportFileName(ExportKind.INVOICE_LINES, ExportFormat.CSV, 'fr-FR', at, 'Europe/Paris')).toBe(
      'lignes-de-facturation_20261127-2345.csv',
    );
    expect(exportFileName(ExportKind.INVOICES, ExportFormat.CSV, 'en-GB', at, 'Europe/London')).toBe(
      'invoices_20261127-2245.csv',
    );
    expect(exportFileName(ExportKind.INVOICE_LINES, ExportFormat.XLSX, 'en-GB', at, 'UTC')).toBe(
      'invoice-lines_20261127-2245.xlsx',
    );
  });

  it('uses the tenant time zone, across midnight and summer time', () => {
    // 23:30 UTC is already the next day in Paris and still the day before in Guadeloupe.
    const lateUtc = new Date('2026-12-31T23:30:00Z');
    expect(exportFileName(ExportKind.INVOICES, ExportFormat.XLSX, 'fr-FR', lateUtc, 'Europe/Paris')).toBe(
      'factures_20270101-0030.xlsx',
    );
    expect(exportFileName(ExportKind.INVOICES, ExportFormat.XLSX, 'fr-FR', lateUtc, 'America/Guadeloupe')).toBe(
      'factures_20261231-1930.xlsx',
    );
    expect(exportFileName(ExportKind.INVOICES, ExportFormat.XLSX, 'fr-FR', new Date('2026-07-14T10:05:00Z'), 'Europe/Paris')).toBe(
      'factures_20260714-1205.xlsx',
    );
    expect(exportFileName(ExportKind.INVOICES, ExportFormat.XLSX, 'fr-FR', new Date('2026-07-14T10:05:00Z'), 'Pacific/Noumea')).toBe(
      'factures_20260714-2105.xlsx',
    );
  });

  it('writes midnight as 00, not 24', () => {
    expect(zonedDateTimeParts(new Date('2026-03-01T23:00:00Z'), 'Europe/Paris')).toEqual({
      year: 2026,
      month: 3,
      day: 2,
      hour: 0,
      minute: 0,
      second: 0,
    });
    expect(exportFileName(ExportKind.INVOICES, ExportFormat.CSV, 'fr-FR', new Date('2026-03-01T23:00:00Z'), 'Europe/Paris')).toBe(
      'factures_20260302-0000.csv',
    );
  });

  it('refuses an unknown time zone or an invalid date with a clear error', () => {
    expect(() => exportFileName(ExportKind.INVOICES, ExportFormat.CSV, 'fr-FR', at, 'Mars/Olympus_Mons')).toThrow(
      /Invalid time zone: "Mars\/Olympus_Mons"/,
    );
    expect(() => exportFileName(ExportKind.INVOICES, ExportFormat.CSV, 'fr-FR', new Date('nope'), 'UTC')).toThrow(
      RangeError,
    );
  });

  it('gives the extension of each format', () => {
    expect(extensionFor(ExportFormat.XLSX)).toBe('xlsx');
    expect(extensionFor(ExportFormat.CSV)).toBe('csv');
  });
});
