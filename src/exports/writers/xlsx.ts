import type { Writable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ColumnDef } from '../cells';
import { SUMMARY_LABELS, type ExportLocale } from '../labels';
import type { ExportSummary, ExportWriter } from './writer';
import { cellRenderer, columnLetters, numFmtFor, type CellRenderer } from './xlsx-cells';
import { dataSheetHead, dataSheetTail, packageParts, sheetPath, StyleSheet, summarySheet, summaryStyles, type SheetColumn } from './xlsx-parts';
import { ZipWriter, type ZipEntryStream } from './zip';

export { calendarDateToSerial, EXCEL_MAX_CELL_CHARS, numFmtFor, textToCell, xmlText } from './xlsx-cells';

/*
 * XLSX written here, part by part, into a ZIP of our own (./zip.ts): the
 * fixed parts (styles, content types, relationships, workbook, the `Résumé`
 * sheet, each data sheet's frame) are built once per file as text; data rows,
 * which are all the volume, are rendered column by column into one string per
 * row, encoded straight into a ~64 KiB chunk buffer, and chunks are streamed
 * into the sheet's deflater. Only a row's first cell and a cell after an
 * empty one carry their reference (`r` is optional in SpreadsheetML: a cell
 * without one is in the column after the previous cell): a fifth less XML to
 * build and compress.
 */

/**
 * Uncompressed sheet XML the deflater may hold before writeRow waits for it
 * (it waits until the deflater has taken everything). Enough for the thread
 * building the XML to keep going while libuv's thread compresses; small, so
 * that chunks die young (V8 frees old external Buffers only on a full GC).
 */
const MAX_PENDING_BYTES = 1024 * 1024;
/** Row XML is encoded and handed to the deflater in chunks of about this many bytes. */
const CHUNK_BYTES = 64 * 1024;
/** Room past CHUNK_BYTES in a chunk buffer, so that a row rarely needs a flush before it fits. */
const CHUNK_SLACK = 16 * 1024;
/** zlib level of the package: 1 (the fastest); sheet XML compresses ~10× anyway. */
const DEFLATE_LEVEL = 1;

export interface XlsxWriterOptions<Row> {
  columns: readonly ColumnDef<Row>[];
  /** Name of the first data sheet; continuations are `<name> (2)`, `<name> (3)`… */
  sheetName: string;
  locale: ExportLocale;
  output: Writable;
  maxRowsPerSheet: number;
  /** Zone of the wall clock the `Résumé` instants are shown in. */
  timeZone: string;
  /** ZIP64 records: when needed (default) or always (tests). */
  zip64?: 'auto' | 'always';
}

/**
 * Data sheets (bold, frozen, filterable header; dates, amounts and codes as
 * typed cells) continued on `<name> (2)`… past `maxRowsPerSheet`, then a
 * `Résumé` sheet. Never holds more than one chunk of rows plus a bounded
 * backlog in memory; no shared strings table.
 */
export class XlsxExportWriter<Row> implements ExportWriter<Row> {
  private readonly zip: ZipWriter;
  private readonly styles = new StyleSheet();
  private readonly renderers: CellRenderer<Row>[];
  /** `<c r="B` per column: the start of a cell after an empty one (the rendered cell follows, less its `<c`). */
  private readonly refOpen: string[];
  private readonly sheetHead: string;
  private readonly summaryStyles;
  private readonly sheetNames: string[] = [];
  private entry: ZipEntryStream | null = null;
  private rowsInSheet = 0;
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES + CHUNK_SLACK);
  /** Chunk buffers the deflater is done with: reused, so that a file allocates a bounded set of them, not one per 64 KiB. */
  private readonly spareChunks: Buffer[] = [];
  private chunkBytes = 0;
  private count = 0;
  private failure: Error | null = null;
  private ended = false;
  private readonly failed: Promise<never>;
  private rejectFailed!: (err: Error) => void;

  constructor(private readonly opts: XlsxWriterOptions<Row>) {
    const { columns, locale, output } = opts;
    this.failed = new Promise<never>((_, reject) => (this.rejectFailed = reject));
    this.failed.catch(() => undefined);
    this.zip = new ZipWriter(output, (err) => this.fail(err), { level: DEFLATE_LEVEL, zip64: opts.zip64 });
    output.on('error', (err) => this.fail(err));
    output.once('close', () => {
      if (!output.writableFinished) this.fail(new Error('The export output closed before the file was complete'));
    });

    // One look per column: it sets the column (`<col style>`) and is the `s` of its data cells.
    const styleIds = columns.map((c) => this.styles.add({ numFmt: numFmtFor(c.type, 'scale' in c ? c.scale : undefined) }));
    this.renderers = columns.map((c, i) => cellRenderer(c, styleIds[i], locale));
    this.refOpen = columns.map((_, i) => `<c r="${columnLetters(i + 1)}`);
    const sheetColumns: SheetColumn[] = columns.map((c, i) => ({
      // Wide enough for the header and its filter button, never absurdly wide.
      width: Math.min(Math.max(c.width, c.header[locale].length + 4), 60),
      style: styleIds[i],
    }));
    const headerStyle = this.styles.add({ numFmt: 'General', bold: true });
    this.sheetHead = dataSheetHead(sheetColumns, columns.map((c) => c.header[locale]), headerStyle);
    this.summaryStyles = summaryStyles(this.styles);
  }

  get rowCount(): number {
    return this.count;
  }

  async writeRow(row: Row): Promise<void> {
    this.assertWritable();
    if (this.entry === null || this.rowsInSheet >= this.opts.maxRowsPerSheet) await this.openDataSheet();

    const r = String(this.rowsInSheet + 2); // row 1 is the header
    const renderers = this.renderers;
    let xml = '<row r="' + r + '">';
    let afterEmpty = true; // the row's first cell says where it is (exceljs's reader needs it)
    for (let i = 0; i < renderers.length; i++) {
      const cell = renderers[i](row);
      if (cell === '') afterEmpty = true;
      else if (afterEmpty) {
        xml += this.refOpen[i] + r + '"' + cell.substring(2);
        afterEmpty = false;
      } else xml += cell;
    }
    this.put(xml + '</row>');
    this.rowsInSheet++;
    this.count++;
    if (this.chunkBytes >= CHUNK_BYTES) await this.flushChunk();
  }

  async finish(summary: ExportSummary): Promise<void> {
    this.assertWritable();
    this.ended = true;
    const done = (async () => {
      if (this.entry === null) await this.openDataSheet(); // an empty export still has its header
      await this.closeDataSheet();
      this.sheetNames.push(SUMMARY_LABELS.sheetName[this.opts.locale]);
      this.zip.addEntry(
        sheetPath(this.sheetNames.length),
        summarySheet(summary, this.opts.sheetName, this.opts.locale, this.opts.timeZone, this.summaryStyles),
      );
      this.zip.addEntry('xl/styles.xml', this.styles.xml());
      for (const [name, xml] of packageParts(this.sheetNames)) this.zip.addEntry(name, xml);
      await this.zip.finish();
    })();
    done.catch(() => undefined);
    await Promise.race([done, this.failed]);
    if (this.failure) throw this.failure;
  }

  abort(reason?: Error): void {
    const err = reason ?? new Error('Export aborted');
    this.fail(err);
    this.ended = true;
    if (!this.opts.output.destroyed) this.opts.output.destroy(reason);
  }

  private assertWritable(): void {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error('The export writer is already finished');
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.zip.abort(err);
    this.rejectFailed(err);
  }

  /** Encodes text into the current chunk (a text longer than a chunk goes alone). */
  private put(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.chunkBytes + text.length * 3 > this.chunk.length) {
      this.handOverChunk();
      if (text.length * 3 > this.chunk.length) {
        this.entry!.write(Buffer.from(text, 'utf8'));
        return;
      }
    }
    this.chunkBytes += this.chunk.write(text, this.chunkBytes, 'utf8');
  }

  /** Gives the filled part of the chunk to the deflater (which keeps it until compressed): the next rows go into a new one. */
  private handOverChunk(): void {
    if (this.chunkBytes === 0) return;
    const full = this.chunk;
    this.entry!.write(full.subarray(0, this.chunkBytes), () => this.spareChunks.push(full));
    this.chunk = this.spareChunks.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES + CHUNK_SLACK);
    this.chunkBytes = 0;
  }

  /**
   * Hands the chunk to the deflater; waits while it holds more than the
   * bound (it stops taking XML while the output is full), and otherwise lets
   * timers and I/O (the compressed data, the upload, the lease heartbeat) run.
   */
  private async flushChunk(): Promise<void> {
    this.handOverChunk();
    const entry = this.entry!;
    if (entry.pendingBytes > MAX_PENDING_BYTES) await Promise.race([entry.drained(), this.failed]);
    else await yieldToEventLoop();
    if (this.failure) throw this.failure;
  }

  private async openDataSheet(): Promise<void> {
    if (this.entry) await this.closeDataSheet();
    const n = this.sheetNames.length + 1;
    this.sheetNames.push(n === 1 ? this.opts.sheetName : `${this.opts.sheetName} (${n})`);
    this.entry = this.zip.openEntry(sheetPath(n));
    this.rowsInSheet = 0;
    this.put(this.sheetHead);
  }

  private async closeDataSheet(): Promise<void> {
    this.put(dataSheetTail(this.opts.columns.length, this.rowsInSheet));
    await this.flushChunk();
    await Promise.race([this.entry!.close(), this.failed]);
  }
}
