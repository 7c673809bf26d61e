import type { Writable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { formatDecimal, parseCalendarDate, type ColumnDef } from '../cells';
import type { ExportLocale } from '../labels';
import type { ExportSummary } from '../rows';
import type { ExportWriter } from './create';

/**
 * How each locale writes a CSV that its spreadsheet opens as columns: a
 * French Excel expects `;` and decimal commas, an English one `,` and points.
 */
export interface CsvDialect {
  separator: string;
  decimalSeparator: string;
  /** `yyyy-mm-dd` → the locale's date. */
  formatDate(isoDate: string): string;
}

export const CSV_DIALECTS: Readonly<Record<ExportLocale, CsvDialect>> = {
  'fr-FR': {
    separator: ';',
    decimalSeparator: ',',
    formatDate: (iso) => {
      parseCalendarDate(iso);
      return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
    },
  },
  'en-GB': {
    separator: ',',
    decimalSeparator: '.',
    formatDate: (iso) => {
      parseCalendarDate(iso);
      return iso;
    },
  },
};

const BOM = '\uFEFF';
const EOL = '\r\n';
/** Lines are joined into one string of about this many characters per output.write(). */
const CHUNK_CHARS = 64 * 1024;
/** A spreadsheet runs a cell starting with one of these as a formula (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text field as a spreadsheet should show it: guarded against formulas, quoted per RFC 4180. */
export function csvTextField(value: string, separator: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  if (text.includes('"')) return `"${text.replace(/"/g, '""')}"`;
  if (text.includes(separator) || text.includes('\n') || text.includes('\r')) return `"${text}"`;
  return text;
}

type FieldFormatter<Row> = (row: Row) => string;

function fieldFormatter<Row>(column: ColumnDef<Row>, locale: ExportLocale): FieldFormatter<Row> {
  const dialect = CSV_DIALECTS[locale];
  const { separator, decimalSeparator } = dialect;
  switch (column.type) {
    case 'text':
    case 'code':
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : csvTextField(String(v), separator);
      };
    case 'date':
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : dialect.formatDate(v);
      };
    case 'money':
    case 'decimal':
    case 'percent':
      // Percent columns print the rate as stored (`20,00`); the header names it.
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : formatDecimal(v, column.scale, decimalSeparator);
      };
    case 'integer':
      return (row) => {
        const v = column.value(row, locale);
        if (v === null || v === undefined) return '';
        if (!Number.isSafeInteger(v)) throw new TypeError(`Column ${column.key}: expected an integer, got ${v}`);
        return String(v);
      };
    default: {
      const never: never = column;
      throw new Error(`Unknown column type: ${JSON.stringify(never)}`);
    }
  }
}

export interface CsvWriterOptions<Row> {
  columns: readonly ColumnDef<Row>[];
  locale: ExportLocale;
  output: Writable;
}

/**
 * RFC 4180 CSV in UTF-8 with a BOM (so that Excel reads the accents) and CRLF.
 * Rows are joined into ~64 KiB chunks; a chunk that the output does not
 * accept right away (write() → false) makes the next writeRow wait for 'drain'.
 */
export class CsvExportWriter<Row> implements ExportWriter<Row> {
  private readonly output: Writable;
  private readonly formatters: FieldFormatter<Row>[];
  private readonly separator: string;
  private buffer: string;
  private failure: Error | null = null;
  private ended = false;
  private count = 0;

  constructor(opts: CsvWriterOptions<Row>) {
    this.output = opts.output;
    this.separator = CSV_DIALECTS[opts.locale].separator;
    this.formatters = opts.columns.map((c) => fieldFormatter(c, opts.locale));
    this.buffer =
      BOM + opts.columns.map((c) => csvTextField(c.header[opts.locale], this.separator)).join(this.separator) + EOL;
    this.output.on('error', (err) => this.fail(err));
    this.output.once('close', () => {
      if (!this.output.writableFinished) this.fail(new Error('The export output closed before the file was complete'));
    });
  }

  get rowCount(): number {
    return this.count;
  }

  async writeRow(row: Row): Promise<void> {
    this.assertWritable();
    const f = this.formatters;
    let line = f[0](row);
    for (let i = 1; i < f.length; i++) line += this.separator + f[i](row);
    this.buffer += line + EOL;
    this.count++;
    if (this.buffer.length >= CHUNK_CHARS) await this.flush();
  }

  async finish(_summary: ExportSummary): Promise<void> {
    this.assertWritable();
    await this.flush();
    this.ended = true;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.output.once('error', onError);
      this.output.end((err?: Error | null) => {
        this.output.off('error', onError);
        const failure = err ?? this.failure;
        if (failure) reject(failure);
        else resolve();
      });
    });
  }

  abort(reason?: Error): void {
    this.fail(reason ?? new Error('Export aborted'));
    this.ended = true;
    if (!this.output.destroyed) this.output.destroy(reason);
  }

  private async flush(): Promise<void> {
    if (!this.buffer) return;
    const chunk = this.buffer;
    this.buffer = '';
    if (!this.output.write(chunk)) await this.drained();
    // Let timers and I/O (the job lock renewal, the upload) run between chunks
    // even when the consumer keeps up.
    else await yieldToEventLoop();
    this.assertWritable();
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.output.off('drain', onDrain);
        this.output.off('close', onClose);
        this.output.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.failure ?? new Error('The export output closed before the file was complete'));
      const onError = (err: Error) => done(err);
      if (this.failure) return done(this.failure);
      this.output.once('drain', onDrain);
      this.output.once('close', onClose);
      this.output.once('error', onError);
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
  }

  private assertWritable(): void {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error('The export writer is already finished');
  }
}
