import type { Writable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { endOutput } from './end-output';
import type { CellFormatter } from './text-cells';
import type { ExportSummary, ExportWriter } from './writer';

const EOL = '\r\n';
const CHUNK_CHARS = 64 * 1024;

/**
 * One line per row, fields joined by a separator, CRLF — the CSV and FEC
 * writers, and the importer layouts (their cells from text-cells.ts). Rows are joined into ~64 KiB chunks, encoded by `encode`; a chunk
 * that the output does not accept right away (write() → false) makes the
 * next writeRow wait for 'drain'.
 */
export abstract class DelimitedTextWriter<Row> implements ExportWriter<Row> {
  private buffer: string;
  private failure: Error | null = null;
  private ended = false;
  private count = 0;

  protected constructor(
    private readonly output: Writable,
    private readonly formatters: CellFormatter<Row>[],
    private readonly separator: string,
    /** The first line(s), already formatted and without the final EOL; null: none (importer layouts). */
    header: string | null,
    private readonly encode: (text: string) => string | Buffer,
    /** Text before the header, e.g. a byte order mark. */
    preamble = '',
  ) {
    this.buffer = preamble + (header === null ? '' : header + EOL);
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
    await endOutput(this.output, () => this.failure);
  }

  abort(reason?: Error): void {
    this.fail(reason ?? new Error('Export aborted'));
    this.ended = true;
    if (!this.output.destroyed) this.output.destroy(reason);
  }

  private async flush(): Promise<void> {
    if (!this.buffer) return;
    const chunk = this.encode(this.buffer);
    this.buffer = '';
    if (!this.output.write(chunk)) await this.drained();
    // Let timers and I/O (the lease heartbeat, the upload) run between chunks
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
