import type { Writable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ColumnDef } from '../cells';
import { SUMMARY_LABELS, type ExportLocale } from '../labels';
import type { ExportSummary } from '../rows';
import type { ExportWriter } from './create';
import { cellRenderer, numFmtFor, type CellRenderer } from './xlsx-cells';
import { dataSheetHead, dataSheetTail, packageParts, sheetPath, StyleSheet, summarySheet, summaryStyles, type SheetColumn } from './xlsx-parts';
import { ZipWriter, type ZipEntryStream } from './zip';

export { calendarDateToSerial, EXCEL_MAX_CELL_CHARS, numFmtFor, textToCell, xmlText } from './xlsx-cells';

/*
 * XLSX written here, part by part, into a ZIP of our own (./zip.ts): the
 * fixed parts (styles, content types, relationships, workbook, the `Résumé`
 * sheet, each data sheet's frame) are built once per file as text; data rows,
 * which are all the volume, are rendered column by column into one string per
 * ~64 KiB chunk, encoded once and streamed into the sheet's deflater.
 */

/**
 * Uncompressed sheet XML the deflater may hold before writeRow waits for it
 * (it waits until the deflater has taken everything). Enough for the thread
 * building the XML to keep going while libuv's thread compresses; small, so
 * that chunks die young (V8 frees old external Buffers only on a full GC).
 */
const MAX_PENDING_BYTES = 1024 * 1024;
/** Row XML is encoded and handed to the deflater in chunks of about this many characters. */
const XML_CHUNK_CHARS = 64 * 1024;
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
  private readonly sheetHead: string;
  private readonly summaryStyles;
  private readonly sheetNames: string[] = [];
  private entry: ZipEntryStream | null = null;
  private rowsInSheet = 0;
  private xml = '';
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
    this.renderers = columns.map((c, i) => cellRenderer(c, i, styleIds[i], locale));
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
    let xml = this.xml + '<row r="' + r + '">';
    for (let i = 0; i < renderers.length; i++) xml += renderers[i](row, r);
    this.xml = xml + '</row>';
    this.rowsInSheet++;
    this.count++;
    if (this.xml.length >= XML_CHUNK_CHARS) await this.flushXml();
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
    this.xml = '';
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

  /**
   * Hands the rows' XML to the deflater; waits while it holds more than the
   * bound (it stops taking XML while the output is full), and otherwise lets
   * timers and I/O (the compressed data, the upload, the lease heartbeat) run.
   */
  private async flushXml(): Promise<void> {
    const entry = this.entry!;
    if (this.xml) entry.write(Buffer.from(this.xml, 'utf8'));
    this.xml = '';
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
    this.xml = this.sheetHead;
  }

  private async closeDataSheet(): Promise<void> {
    await this.flushXml();
    const entry = this.entry!;
    entry.write(Buffer.from(dataSheetTail(this.opts.columns.length, this.rowsInSheet), 'utf8'));
    await Promise.race([entry.close(), this.failed]);
  }
}
