import { registerEnumType } from 'type-graphql';

export enum Product {
  ARTIST_STANDARD = 'ARTIST_STANDARD',
  ARTIST_PREMIUM = 'ARTIST_PREMIUM',
  SCHOOL_STANDARD = 'SCHOOL_STANDARD',
  SCHOOL_PREMIUM = 'SCHOOL_PREMIUM',
  MANAGER = 'MANAGER',
}
export enum InvoiceType {
  INVOICE = 'INVOICE',
  CREDIT_NOTE = 'CREDIT_NOTE',
}
export enum InvoiceStatus {
  TO_COLLECT = 'TO_COLLECT',
  PARTIALLY_PAID = 'PARTIALLY_PAID',
  PAID = 'PAID',
  SETTLED = 'SETTLED',
  CANCELLED = 'CANCELLED',
}
export enum BillingPeriod {
  ANNUAL = 'ANNUAL',
  SEMESTER_1 = 'SEMESTER_1',
  SEMESTER_2 = 'SEMESTER_2',
  QUARTER_1 = 'QUARTER_1',
  QUARTER_2 = 'QUARTER_2',
  QUARTER_3 = 'QUARTER_3',
  QUARTER_4 = 'QUARTER_4',
  MONTHLY = 'MONTHLY',
}
export enum PaymentMethod {
  CHEQUE = 'CHEQUE',
  CASH = 'CASH',
  BANK_TRANSFER = 'BANK_TRANSFER',
  DIRECT_DEBIT = 'DIRECT_DEBIT',
  CARD = 'CARD',
  HOLIDAY_VOUCHER = 'HOLIDAY_VOUCHER',
  OTHER = 'OTHER',
}
export enum ExportKind {
  INVOICES = 'INVOICES',
  INVOICE_LINES = 'INVOICE_LINES',
  ACCOUNTING_ENTRIES = 'ACCOUNTING_ENTRIES',
}
export enum ExportFormat {
  XLSX = 'XLSX',
  CSV = 'CSV',
  FEC = 'FEC',
  QUADRA = 'QUADRA',
  XIMPORT = 'XIMPORT',
  EBP = 'EBP',
  CEGID = 'CEGID',
  SAGE100 = 'SAGE100',
}
/** Formats written in an accounting program's import layout (docs/accounting.md): ACCOUNTING_ENTRIES only. */
export const IMPORT_LAYOUT_FORMATS: readonly ExportFormat[] = [
  ExportFormat.QUADRA,
  ExportFormat.XIMPORT,
  ExportFormat.EBP,
  ExportFormat.CEGID,
  ExportFormat.SAGE100,
];
export enum ExportStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
  EXPIRED = 'EXPIRED',
}
/** Statuses after which an export never changes again (but COMPLETED → EXPIRED). */
export const FINAL_EXPORT_STATUSES: readonly ExportStatus[] = [
  ExportStatus.COMPLETED,
  ExportStatus.FAILED,
  ExportStatus.CANCELLED,
  ExportStatus.EXPIRED,
];
/** What a QUEUED export waits for (the page shows it instead of a frozen bar). */
export enum WaitingReason {
  /** Its tenant already runs EXPORT_TENANT_CONCURRENCY exports; queuePosition says how many of its own are ahead. */
  TENANT_CONCURRENCY = 'TENANT_CONCURRENCY',
  /** An attempt failed on a transient error (its `error` says which); retried at `notBefore`. */
  RETRY = 'RETRY',
  /** The job queue (Redis) is unreachable; the export is recorded and is dispatched as soon as it is back. */
  QUEUE_UNAVAILABLE = 'QUEUE_UNAVAILABLE',
  /** Its worker stopped; another worker takes it over. */
  WORKER_LOST = 'WORKER_LOST',
}
export enum Role {
  ADMIN = 'ADMIN',
  ACCOUNTANT = 'ACCOUNTANT',
  VIEWER = 'VIEWER',
}

registerEnumType(InvoiceType, { name: 'InvoiceType' });
registerEnumType(InvoiceStatus, { name: 'InvoiceStatus' });
registerEnumType(BillingPeriod, { name: 'BillingPeriod' });
registerEnumType(PaymentMethod, { name: 'PaymentMethod' });
registerEnumType(ExportKind, {
  name: 'ExportKind',
  valuesConfig: {
    INVOICES: { description: '"Exporter": one row per invoice or credit note (XLSX, CSV)' },
    INVOICE_LINES: { description: '"Exporter les lignes de facturation": one row per billing line (XLSX, CSV)' },
    ACCOUNTING_ENTRIES: { description: '"Exporter les écritures comptables": a sales journal, one entry per document (FEC, CSV, XLSX)' },
  },
});
registerEnumType(ExportFormat, {
  name: 'ExportFormat',
  valuesConfig: {
    FEC: { description: "Fichier des Écritures Comptables (tab-separated, ISO-8859-15): ACCOUNTING_ENTRIES only" },
    QUADRA: { description: 'QuadraCOMPTA ASCII import (fixed width, ASCII): ACCOUNTING_ENTRIES only' },
    XIMPORT: { description: 'Sage 50 / Ciel Compta XIMPORT.TXT (fixed width, Windows-1252): ACCOUNTING_ENTRIES only' },
    EBP: { description: 'EBP entries import (comma-separated, Windows-1252): ACCOUNTING_ENTRIES only' },
    CEGID: { description: "Cegid Expert's configurable import (semicolon-separated, Windows-1252): ACCOUNTING_ENTRIES only" },
    SAGE100: { description: "Sage 100, the layout of Sage's import sample (tab-separated, UTF-8 with BOM): ACCOUNTING_ENTRIES only" },
  },
});
registerEnumType(ExportStatus, { name: 'ExportStatus' });
registerEnumType(WaitingReason, {
  name: 'WaitingReason',
  description: 'What a QUEUED export waits for',
  valuesConfig: {
    TENANT_CONCURRENCY: { description: "Its organisation's other exports to finish (EXPORT_TENANT_CONCURRENCY run at once); see queuePosition" },
    RETRY: { description: 'Its retry at notBefore, after a transient failure that `error` names' },
    QUEUE_UNAVAILABLE: { description: 'The job queue to be reachable again; the export is recorded and will run' },
    WORKER_LOST: { description: 'Another worker, its worker having stopped' },
  },
});
