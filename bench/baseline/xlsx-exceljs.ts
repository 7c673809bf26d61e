/*
 * Baseline only (npm run bench, writer-only phase): the XLSX writer as it was
 * at commit 74a2d1c, on exceljs's streaming WorkbookWriter and its internals,
 * so that the bench measures the current writer against it in the same run.
 * Not used by the service.
 */

/** The pseudo-format under which bench/writer-only.ts runs this writer. */
export const EXCELJS_BASELINE = 'XLSX_EXCELJS';
import type { Writable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import ExcelJS from 'exceljs';
import { parseCalendarDate, percentToFraction, type ColumnDef, type ColumnType } from '../../src/exports/cells';
import { zonedDateTimeParts } from '../../src/exports/zoned-time';
import { SUMMARY_LABELS, type ExportLocale } from '../../src/exports/labels';
import type { ExportSummary, ExportWriter } from '../../src/exports/writers/writer';

/*
 * XLSX through exceljs's streaming WorkbookWriter. exceljs writes the package
 * (zip, workbook, styles, sheet structure, column widths, views, auto filter,
 * header row, the `Résumé` sheet); data rows, which are all the volume, are
 * serialised here straight into the worksheet's XML stream: exceljs builds a
 * Row, a Cell and a style copy per cell and renders each through its generic
 * XML builder, about 3 times slower for the same XML. What this file relies on
 * in exceljs 4.4 beyond its typings is isolated in `Internals` below and
 * checked when a writer is created; the unit tests read every file back with
 * exceljs's reader.
 */

/** Excel's limit on the characters of one cell; longer text makes Excel "repair" the file. */
export const EXCEL_MAX_CELL_CHARS = 32_767;

const NUM_FMT = {
  date: 'dd/mm/yyyy',
  dateTime: 'dd/mm/yyyy hh:mm',
  money: '#,##0.00',
  integer: '0',
  text: '@',
} as const;

/** How a column's cells look; number formats are locale-free (Excel shows the reader's separators). */
export function numFmtFor(type: ColumnType, scale = 2): string {
  switch (type) {
    case 'date':
      return NUM_FMT.date;
    case 'money':
      return NUM_FMT.money;
    case 'decimal':
      return scale > 0 ? `#,##0.${'0'.repeat(scale)}` : '#,##0';
    case 'percent':
      return scale > 0 ? `0.${'0'.repeat(scale)}%` : '0%';
    case 'integer':
      return NUM_FMT.integer;
    case 'text':
    case 'code':
      return NUM_FMT.text;
  }
}

// ---------------------------------------------------------------------------
// Cell values

/** Days from Excel's epoch (1899-12-30) to 1970-01-01. */
const EXCEL_EPOCH_OFFSET_DAYS = 25569;
const MS_PER_DAY = 86_400_000;

/** `yyyy-mm-dd` → Excel's day number for that calendar date: pure arithmetic, no time zone involved. */
export function calendarDateToSerial(value: string): number {
  const { year, month, day } = parseCalendarDate(value);
  return Date.UTC(year, month - 1, day) / MS_PER_DAY + EXCEL_EPOCH_OFFSET_DAYS;
}

/** A Date that exceljs (which converts with UTC) writes as the wall-clock time given by its UTC fields. */
function utcFieldsDate(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): Date {
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

const XML_DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** A decimal string as an XML number, written as PostgreSQL printed it: no float on the way. */
function xmlNumber(key: string, value: string): string {
  if (!XML_DECIMAL.test(value)) {
    throw new TypeError(`Column ${key}: expected a decimal string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Text cut to Excel's cell limit without splitting a surrogate pair. */
export function textToCell(value: string): string {
  if (value.length <= EXCEL_MAX_CELL_CHARS) return value;
  let end = EXCEL_MAX_CELL_CHARS - 1;
  const code = value.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${value.slice(0, end)}…`;
}

// Characters XML 1.0 cannot carry are dropped (as exceljs does); `&<>` are
// escaped; CR becomes a character reference, or XML parsers would turn CRLF
// into LF; a literal `_xHHHH_` is escaped as `_x005F_xHHHH_`, or Excel would
// decode it as a character (ECMA-376 ST_Xstring).
const XML_SPECIAL = /[&<>\r\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|_x[0-9A-Fa-f]{4}_/;
const XML_SPECIAL_ALL = /[&<>\r\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|_(?=x[0-9A-Fa-f]{4}_)/g;
function xmlEscapeChar(c: string): string {
  switch (c) {
    case '&':
      return '&amp;';
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    case '\r':
      return '&#13;';
    case '_':
      return '_x005F_';
    default:
      return '';
  }
}

/** `<t>` content for an inline string. */
export function xmlText(value: string): string {
  const text = textToCell(value);
  const escaped = XML_SPECIAL.test(text) ? text.replace(XML_SPECIAL_ALL, xmlEscapeChar) : text;
  // Leading or trailing blanks are kept only with xml:space="preserve".
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return first <= 32 || last <= 32 ? `<t xml:space="preserve">${escaped}</t>` : `<t>${escaped}</t>`;
}

function columnLetters(n: number): string {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

/** Renders one column's `<c>` element for a row (or '' for an empty cell). */
type CellRenderer<Row> = (row: Row, rowNumber: number) => string;

function cellRenderer<Row>(column: ColumnDef<Row>, index: number, styleId: number, locale: ExportLocale): CellRenderer<Row> {
  const ref = columnLetters(index + 1);
  const s = ` s="${styleId}"`;
  const num = (r: number, v: string) => `<c r="${ref}${r}"${s}><v>${v}</v></c>`;
  switch (column.type) {
    case 'text':
    case 'code':
      // Always an inline string, never a formula: `=HYPERLINK(…)` stays text.
      return (row, r) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : `<c r="${ref}${r}"${s} t="inlineStr"><is>${xmlText(String(v))}</is></c>`;
      };
    case 'date':
      return (row, r) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : num(r, String(calendarDateToSerial(v)));
      };
    case 'money':
    case 'decimal':
      return (row, r) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : num(r, xmlNumber(column.key, v));
      };
    case 'percent':
      // Stored as a fraction (20.00 → 0.2000) shown `20.00%`, so that Excel computes with it.
      return (row, r) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : num(r, xmlNumber(column.key, percentToFraction(v)));
      };
    case 'integer':
      return (row, r) => {
        const v = column.value(row, locale);
        if (v === null || v === undefined) return '';
        if (!Number.isSafeInteger(v)) throw new TypeError(`Column ${column.key}: expected an integer, got ${v}`);
        return num(r, String(v));
      };
    default: {
      const never: never = column;
      throw new Error(`Unknown column type: ${JSON.stringify(never)}`);
    }
  }
}

// ---------------------------------------------------------------------------
// exceljs 4.4 internals used here (not in its typings).
//
// - `workbook.styles.addStyleModel(style, type)` gives the `s` index of a style.
// - `worksheet.stream` is the StreamBuf the sheet's XML is written to, once the
//   header row is committed (which writes `<cols>` and opens `<sheetData>`).
//   It is piped, ignoring backpressure, into a PassThrough that feeds the zip
//   deflater: that PassThrough is where unread data piles up when the deflater
//   or the output is slower than the rows, so its buffered length is what
//   writeRow bounds.
// - `workbook.zip` is the archiver instance (errors, abort).
interface LegacyStreamState {
  length: number;
}
interface SheetPipe {
  _writableState?: LegacyStreamState;
  _readableState?: LegacyStreamState;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
}
interface SheetStream {
  write(chunk: string): unknown;
  pipes?: SheetPipe[];
}
interface Internals {
  styles: { addStyleModel(style: Partial<ExcelJS.Style>, cellType?: ExcelJS.ValueType): number };
  zip: { on(event: 'error', listener: (err: Error) => void): unknown; abort?(): unknown };
}
const internals = (workbook: ExcelJS.stream.xlsx.WorkbookWriter) => workbook as unknown as Internals;
const sheetStream = (sheet: ExcelJS.Worksheet) => (sheet as unknown as { stream?: SheetStream }).stream;

/**
 * Unread bytes a worksheet may pile up before writeRow waits for the zip to
 * catch up. Small on purpose: XML chunks that wait longer outlive V8's
 * young-generation collections, and their Buffers are then only freed by a
 * full GC, which V8 triggers after ~64 MB of external memory. At 4 MiB the
 * worker carried ~65 MB of dead buffers on a 100,000-row export; at 1 MiB
 * ~7 MB, at the same speed (npm run bench).
 */
const MAX_PENDING_BYTES = 1024 * 1024;
// (Downstream, archiver and zip-stream buffer up to ~1 MiB each on top: fixed, not growing.)
/** Row XML is handed to the sheet stream in chunks of about this many characters. */
const XML_CHUNK_CHARS = 64 * 1024;
/** Rows between two looks at the backlog (cheap) and between two yields to the event loop. */
const CHECK_EVERY_ROWS = 64;
const YIELD_EVERY_ROWS = 512;

export interface XlsxWriterOptions<Row> {
  columns: readonly ColumnDef<Row>[];
  /** Name of the first data sheet; continuations are `<name> (2)`, `<name> (3)`… */
  sheetName: string;
  locale: ExportLocale;
  output: Writable;
  maxRowsPerSheet: number;
  /** Zone of the wall clock the `Résumé` instants are shown in. */
  timeZone: string;
}

/**
 * Data sheets (bold, frozen, filterable header; dates, amounts and codes as
 * typed cells) continued on `<name> (2)`… past `maxRowsPerSheet`, then a
 * `Résumé` sheet. Never holds more than one chunk of rows plus a bounded
 * backlog in memory; no shared strings table.
 */
export class ExceljsXlsxWriter<Row> implements ExportWriter<Row> {
  private readonly workbook: ExcelJS.stream.xlsx.WorkbookWriter;
  private readonly renderers: CellRenderer<Row>[];
  private readonly columnDefs: Partial<ExcelJS.Column>[];
  private sheet: ExcelJS.Worksheet | null = null;
  private stream: SheetStream | null = null;
  private sheetNumber = 0;
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

    this.workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
      stream: output,
      useStyles: true,
      useSharedStrings: false,
    });
    const { styles, zip } = internals(this.workbook);
    if (typeof styles?.addStyleModel !== 'function' || typeof zip?.on !== 'function') {
      throw new Error('Unsupported exceljs version: the XLSX writer needs exceljs 4.4 streaming internals');
    }
    zip.on('error', (err) => this.fail(err));
    output.on('error', (err) => this.fail(err));
    output.once('close', () => {
      if (!output.writableFinished) this.fail(new Error('The export output closed before the file was complete'));
    });

    // One style object per column: it sets the column's look (`<col style>`),
    // the header cells inherit it, and its index is the `s` of the data cells.
    const columnStyles = columns.map((c) => ({ numFmt: numFmtFor(c.type, 'scale' in c ? c.scale : undefined) }));
    this.renderers = columns.map((c, i) => cellRenderer(c, i, styles.addStyleModel(columnStyles[i]), locale));
    this.columnDefs = columns.map((c, i) => ({
      header: c.header[locale],
      key: c.key,
      // Wide enough for the header and its filter button, never absurdly wide.
      width: Math.min(Math.max(c.width, c.header[locale].length + 4), 60),
      style: columnStyles[i],
    }));
  }

  get rowCount(): number {
    return this.count;
  }

  async writeRow(row: Row): Promise<void> {
    this.assertWritable();
    if (this.sheet === null || this.rowsInSheet >= this.opts.maxRowsPerSheet) this.openDataSheet();

    const r = this.rowsInSheet + 2; // row 1 is the header
    const renderers = this.renderers;
    let xml = `<row r="${r}">`;
    for (let i = 0; i < renderers.length; i++) xml += renderers[i](row, r);
    this.xml += `${xml}</row>`;
    this.rowsInSheet++;
    this.count++;
    if (this.xml.length >= XML_CHUNK_CHARS) this.flushXml();

    if (this.count % CHECK_EVERY_ROWS === 0) {
      const pending = this.pendingBytes();
      if (pending > MAX_PENDING_BYTES || (pending < 0 && this.opts.output.writableNeedDrain)) await this.caughtUp();
      else if (this.count % YIELD_EVERY_ROWS === 0) await yieldToEventLoop();
      if (this.failure) throw this.failure;
    }
  }

  async finish(summary: ExportSummary): Promise<void> {
    this.assertWritable();
    this.ended = true;
    if (this.sheet === null) this.openDataSheet(); // an empty export still has its header
    this.closeDataSheet();
    this.writeSummarySheet(summary);
    // commit() resolves on the output's 'finish'; a failed or closed output rejects instead.
    await Promise.race([this.workbook.commit(), this.failed]);
    if (this.failure) throw this.failure;
  }

  abort(reason?: Error): void {
    this.fail(reason ?? new Error('Export aborted'));
    this.ended = true;
    this.xml = '';
    internals(this.workbook).zip.abort?.();
    if (!this.opts.output.destroyed) this.opts.output.destroy(reason);
  }

  private assertWritable(): void {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error('The export writer is already finished');
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.rejectFailed(err);
  }

  private flushXml(): void {
    if (!this.xml) return;
    this.stream!.write(this.xml);
    this.xml = '';
  }

  private openDataSheet(): void {
    if (this.sheet) this.closeDataSheet();
    this.sheetNumber++;
    const name = this.sheetNumber === 1 ? this.opts.sheetName : `${this.opts.sheetName} (${this.sheetNumber})`;
    const sheet = this.workbook.addWorksheet(name, {
      views: [{ state: 'frozen', xSplit: 0, ySplit: 1, topLeftCell: 'A2', activeCell: 'A2' }],
    });
    sheet.columns = this.columnDefs; // also fills the header row (row 1)
    const header = sheet.getRow(1);
    header.font = { bold: true };
    header.commit(); // writes <cols>, opens <sheetData>, writes row 1: data rows follow
    const stream = sheetStream(sheet);
    if (typeof stream?.write !== 'function') {
      throw new Error('Unsupported exceljs version: no worksheet stream to write rows into');
    }
    this.sheet = sheet;
    this.stream = stream;
    this.rowsInSheet = 0;
  }

  private closeDataSheet(): void {
    this.flushXml();
    const sheet = this.sheet!;
    // The filter covers the header and every data row of this sheet.
    sheet.autoFilter = {
      from: { row: 1, column: 1 },
      to: { row: this.rowsInSheet + 1, column: this.opts.columns.length },
    };
    sheet.commit();
  }

  private writeSummarySheet(s: ExportSummary): void {
    const { locale, timeZone } = this.opts;
    const L = SUMMARY_LABELS;
    const sheet = this.workbook.addWorksheet(L.sheetName[locale]);
    sheet.columns = [
      { key: 'label', width: 32, style: { font: { bold: true } } },
      { key: 'value', width: 60, style: { alignment: { horizontal: 'left', vertical: 'top', wrapText: true } } },
    ];
    const wallClock = (at: Date): Date => {
      const p = zonedDateTimeParts(at, timeZone);
      return utcFieldsDate(p.year, p.month, p.day, p.hour, p.minute, p.second);
    };
    const money = (key: string, v: string) => Number(xmlNumber(key, v)); // display value of a numeric cell
    const facts: [string, string | number | Date, string?][] = [
      [L.exportKind[locale], this.opts.sheetName],
      [L.tenant[locale], s.tenantName],
      [L.requestedBy[locale], s.requestedBy],
      [L.requestedAt[locale], wallClock(s.requestedAt), NUM_FMT.dateTime],
      [L.generatedAt[locale], wallClock(s.generatedAt), NUM_FMT.dateTime],
      [L.timeZone[locale], timeZone],
      [L.selection[locale], s.selection],
      [L.invoiceCount[locale], s.invoiceCount, NUM_FMT.integer],
      [L.creditNoteCount[locale], s.creditNoteCount, NUM_FMT.integer],
      [L.rowCount[locale], s.rowCount, NUM_FMT.integer],
      [L.totalDue[locale], money('totalDue', s.totalDue), NUM_FMT.money],
      [L.totalPaid[locale], money('totalPaid', s.totalPaid), NUM_FMT.money],
      [L.totalRemaining[locale], money('totalRemaining', s.totalRemaining), NUM_FMT.money],
    ];
    for (const fact of s.extraFacts ?? []) {
      if (fact.type === 'money') facts.push([fact.label[locale], money(fact.label['en-GB'], String(fact.value)), NUM_FMT.money]);
      else if (fact.type === 'integer') facts.push([fact.label[locale], Number(fact.value), NUM_FMT.integer]);
      else facts.push([fact.label[locale], String(fact.value)]);
    }
    for (const [label, value, numFmt] of facts) {
      // Plain strings: exceljs writes a formula only for a `{ formula }` value.
      const row = sheet.addRow([label, typeof value === 'string' ? textToCell(value) : value]);
      if (numFmt) row.getCell(2).numFmt = numFmt;
      row.commit();
    }
    sheet.commit();
  }

  /** Bytes of the current sheet the zip has not consumed yet; -1 if exceljs hides them. */
  private pendingBytes(): number {
    const pipe = this.stream?.pipes?.[0];
    if (!pipe?._writableState) return -1;
    return pipe._writableState.length + (pipe._readableState?.length ?? 0);
  }

  /**
   * Waits until the current sheet's backlog is under half the bound or, if
   * exceljs's internals are not where expected, until the output drains.
   * 'drain' wakes it early; the timer re-checks (and notices failures) anyway.
   */
  private async caughtUp(): Promise<void> {
    const output = this.opts.output;
    for (;;) {
      if (this.failure) return;
      const pending = this.pendingBytes();
      const target = pending >= 0 ? this.stream?.pipes?.[0] : output.writableNeedDrain ? output : undefined;
      if (!target || (pending >= 0 && pending <= MAX_PENDING_BYTES / 2)) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 25);
        timer.unref(); // a safety net, not a reason to keep the process alive
        function done() {
          clearTimeout(timer);
          target!.removeListener('drain', done);
          resolve();
        }
        target.once('drain', done);
      });
    }
  }
}
