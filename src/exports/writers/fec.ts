import type { Writable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { latin9Bytes, toLatin9Text } from '../../accounting/fec-text';
import { formatDecimal, parseCalendarDate, type ColumnDef } from '../cells';
import type { ExportSummary } from '../rows';
import type { ExportWriter } from './create';

/*
 * The FEC layout (Livre des procédures fiscales, art. A47 A-1; DESIGN §9):
 * a first line with the field names (the columns' keys), one line per entry
 * line, fields separated by a tab, lines ended by CRLF, ISO-8859-15, no
 * quoting (text cannot hold the separators: they become spaces), dates
 * AAAAMMJJ, amounts with a decimal comma and two decimals, no grouping.
 */

const SEPARATOR = '\t';
const EOL = '\r\n';
const CHUNK_CHARS = 64 * 1024;

type FieldFormatter<Row> = (row: Row) => string;

function fecField<Row>(column: ColumnDef<Row>): FieldFormatter<Row> {
  switch (column.type) {
    case 'text':
    case 'code':
      return (row) => {
        const v = column.value(row, 'fr-FR');
        return v === null || v === undefined ? '' : toLatin9Text(String(v));
      };
    case 'date':
      return (row) => {
        const v = column.value(row, 'fr-FR');
        if (v === null || v === undefined) return '';
        parseCalendarDate(v);
        return v.slice(0, 4) + v.slice(5, 7) + v.slice(8, 10);
      };
    case 'money':
    case 'decimal':
    case 'percent':
      return (row) => {
        const v = column.value(row, 'fr-FR');
        return v === null || v === undefined ? '' : formatDecimal(v, column.scale, ',');
      };
    case 'integer':
      return (row) => {
        const v = column.value(row, 'fr-FR');
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

export interface FecWriterOptions<Row> {
  /** Columns marked `notInFec` are left out. */
  columns: readonly ColumnDef<Row>[];
  output: Writable;
}

/** A FEC text file; rows are joined into ~64 KiB chunks, with backpressure as the CSV writer. */
export class FecExportWriter<Row> implements ExportWriter<Row> {
  private readonly output: Writable;
  private readonly formatters: FieldFormatter<Row>[];
  private buffer: string;
  private failure: Error | null = null;
  private ended = false;
  private count = 0;

  constructor(opts: FecWriterOptions<Row>) {
    const columns = opts.columns.filter((c) => !c.notInFec);
    this.output = opts.output;
    this.formatters = columns.map((c) => fecField(c));
    this.buffer = columns.map((c) => toLatin9Text(c.key)).join(SEPARATOR) + EOL;
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
    for (let i = 1; i < f.length; i++) line += SEPARATOR + f[i](row);
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
    const chunk = latin9Bytes(this.buffer);
    this.buffer = '';
    if (!this.output.write(chunk)) await this.drained();
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
