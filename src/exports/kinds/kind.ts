import type { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';
import type { ExportFormat, ExportKind } from '../../entities/enums';
import type { InvoiceExport } from '../../entities/invoice-export.entity';
import type { Tenant } from '../../entities/tenant.entity';
import type { BuiltQuery, Queryable } from '../../db/sql';
import type { ColumnDef } from '../cells';
import { createFormatWriter, exportFormat, type FileNameFacts, type FileWriterOptions } from '../formats';
import type { ExportLocale, Localized } from '../labels';
import type { StoredSelection } from '../selection';
import type { ExportWriter } from '../writers/writer';

export type { BuiltQuery, Queryable } from '../../db/sql';

/**
 * What every kind's totals query returns (more fields are the kind's own).
 * Counts are numbers, sums decimal strings as PostgreSQL prints them.
 */
export interface BaseTotals {
  invoiceCount: number;
  creditNoteCount: number;
  totalDue: string;
  totalPaid: string;
  totalRemaining: string;
}

/** What `invoice_exports.warnings` holds and `InvoiceExport.warnings` shows. */
export interface ExportWarningData {
  code: string;
  count: number;
  message: string;
  /** Importer layouts (LABEL_SHORTENED) and the FEC's name: the rule (= code), the field, its width, the first documents. */
  rule?: string;
  field?: string | null;
  width?: number | null;
  documents?: string[];
}

export interface OpenAttemptArgs<Totals> {
  /** The attempt's read-only snapshot (the same one the rows come from). */
  db: Queryable;
  exp: InvoiceExport;
  tenant: Tenant;
  totals: Totals;
  locale: ExportLocale;
  output: Writable;
  maxRowsPerSheet?: number;
  /**
   * Kinds that `writeWithCompletion`: the transaction that will mark the export
   * COMPLETED, begun now, to write into while the rows stream (it commits only
   * if the export completes).
   */
  completion?: Queryable;
}

/** One attempt of one export, as its kind sets it up once the totals are known. */
export interface KindAttempt<SqlRow> {
  fileName: string;
  /** Takes the rows as the kind's SELECT streams them; writes the file into `output`. */
  writer: ExportWriter<SqlRow>;
  /** Set once `writer.finish` resolved; stored on the export. */
  warnings(): ExportWarningData[] | null;
  /** Runs in the transaction that marks the export COMPLETED (e.g. the last transfer marks). */
  onCompleted?(db: Queryable): Promise<void>;
}

/**
 * One export kind: its SELECT, its rows, its columns, its totals and how an
 * attempt writes them. The worker, the writers, the benchmark and the tests
 * ask the registry (kinds/index.ts); nothing else branches on the kind.
 */
export interface ExportKindDefinition<SqlRow = any, FileRow = any, Totals extends BaseTotals = any> {
  readonly kind: ExportKind;
  /** The format a request that names none gets (the formats it accepts are in exports/formats.ts). */
  readonly defaultFormat: ExportFormat;
  /** The attempt writes rows of its own that commit with the COMPLETED status: it gets `completion` (OpenAttemptArgs). */
  readonly writeWithCompletion?: boolean;
  /** The file's columns, in order (what a data row of the file holds); each key stable and camelCase. */
  readonly columns: readonly ColumnDef<FileRow>[];
  /** XLSX data sheet name. */
  readonly sheetName: Localized;
  /** File name stem (`factures`), before `_<yyyymmdd-HHMM>.<ext>`. */
  readonly fileStem: Localized;
  /** The streamed SELECT, in export order; the benchmark's COPY baseline runs the same text. */
  rowsQuery(tenantId: string, selection: StoredSelection): BuiltQuery;
  /** Counts and sums of the same selection, read in the same snapshot, before the file is opened. */
  totalsQuery(tenantId: string, selection: StoredSelection): BuiltQuery;
  /**
   * Totals that probe each document's lines (an index probe per document):
   * read in the same snapshot on a connection of their own while
   * the rows stream (worker/snapshot-query.ts), merged into the totals before
   * the file is finished. `totalRows` may need them.
   */
  probeTotalsQuery?(tenantId: string, selection: StoredSelection): BuiltQuery;
  /** Rows the SELECT will stream: the progress bar's total (from every total, the probed ones included). */
  totalRows(totals: Totals): number;
  /** The format of a request that names none, when it depends on the tenant (else `defaultFormat`). */
  tenantDefaultFormat?(ds: DataSource, tenantId: string): Promise<ExportFormat>;
  /** Extra checks at request time, after the selection was resolved and before anything is written. */
  validateRequest?(ds: DataSource, tenantId: string, selection: StoredSelection, format: ExportFormat): Promise<void>;
  openAttempt(args: OpenAttemptArgs<Totals>): Promise<KindAttempt<SqlRow>>;
}

/** Where and how a kind's file is written. */
export interface KindFileArgs extends Pick<FileNameFacts, 'statutoryName'>, Pick<FileWriterOptions<unknown>, 'layout' | 'accounting'> {
  format: ExportFormat;
  locale: ExportLocale;
  output: Writable;
  /** When the export was requested (the file name's stamp). */
  at: Date;
  /** The tenant's IANA zone. */
  timeZone: string;
  maxRowsPerSheet?: number;
}

/**
 * A kind's file in a format: its name by the format's rule and the format's
 * writer over the kind's columns. Every kind's `openAttempt` opens its file
 * here; the benchmark and the tests write through it too (kinds/index.ts).
 */
export function openKindFile<FileRow>(
  def: Pick<ExportKindDefinition<unknown, FileRow>, 'columns' | 'sheetName' | 'fileStem'>,
  args: KindFileArgs,
): { fileName: string; writer: ExportWriter<FileRow> } {
  const { locale, timeZone } = args;
  const format = exportFormat(args.format);
  return {
    fileName: format.fileName({ stem: def.fileStem[locale], at: args.at, timeZone, statutoryName: args.statutoryName }),
    writer: createFormatWriter<FileRow>(args.format, {
      columns: def.columns,
      sheetName: def.sheetName[locale],
      locale,
      output: args.output,
      maxRowsPerSheet: args.maxRowsPerSheet,
      timeZone,
      layout: args.layout,
      accounting: args.accounting,
    }),
  };
}

/** The file arguments of an attempt: its export's format and request time, the tenant's zone. */
export const attemptFileArgs = ({ exp, tenant, locale, output, maxRowsPerSheet }: OpenAttemptArgs<unknown>): KindFileArgs => ({
  format: exp.format,
  locale,
  output,
  at: exp.createdAt,
  timeZone: tenant.timezone,
  maxRowsPerSheet,
  layout: exp.options,
});
