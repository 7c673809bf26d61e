import { ExportKind } from '../entities/enums';
import type { AccountingEntryLine } from '../accounting/entries';
import type { ColumnDef } from './cells';
import { EXPORT_KINDS, exportKind, type FileRowOf } from './kinds';
import type { InvoiceLineRow } from './kinds/invoice-lines';
import type { InvoiceRow } from './kinds/invoices';
import type { Localized, ExportLocale } from './labels';

/**
 * Each kind's columns as the writers and the tests see them. The columns
 * themselves are defined once, in the kind's module (exports/kinds/*);
 * what a column is (types, cell helpers) is in exports/cells.ts.
 */
export * from './cells';
export { INVOICE_COLUMNS } from './kinds/invoices';
export { INVOICE_LINE_COLUMNS } from './kinds/invoice-lines';
export { ACCOUNTING_ENTRY_COLUMNS } from './kinds/accounting-entries';
export type { InvoiceLineRow, InvoiceRow, AccountingEntryLine };

/** The row shape each kind's file holds, from the registry. */
export type ExportRowByKind = { [K in ExportKind]: FileRowOf<K> };
export type ExportRow = ExportRowByKind[ExportKind];

export function columnsFor<K extends ExportKind>(kind: K): readonly ColumnDef<ExportRowByKind[K]>[] {
  return exportKind(kind).columns;
}

export function headersFor(kind: ExportKind, locale: ExportLocale): string[] {
  return columnsFor(kind).map((c) => c.header[locale]);
}

/** Fields of a row that always hold a string (money fields are among them). */
export type StringField<Row> = { [P in keyof Row]-?: Row[P] extends string ? P : never }[keyof Row] & string;

function moneyKeys<Row>(columns: readonly ColumnDef<Row>[]): StringField<Row>[] {
  return columns.filter((c) => c.type === 'money').map((c) => c.key as StringField<Row>);
}

const byKind = <T>(f: (kind: ExportKind) => T) =>
  Object.fromEntries(Object.values(ExportKind).map((k) => [k, f(k)])) as { readonly [K in ExportKind]: T };

/**
 * Amount columns of each kind. Their key is the row field holding the decimal
 * string, so a caller can total a file: `sumMoney(rows.map((r) => r[key]))`.
 */
export const MONEY_COLUMN_KEYS = byKind((k) => moneyKeys(columnsFor(k))) as unknown as {
  readonly [K in ExportKind]: readonly StringField<ExportRowByKind[K]>[];
};

/** Name of the data sheet (XLSX) for a kind; continuation sheets add ` (2)`, ` (3)`… */
export const DATA_SHEET_NAMES: { readonly [K in ExportKind]: Localized } = byKind((k) => EXPORT_KINDS[k].sheetName);
