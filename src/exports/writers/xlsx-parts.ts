import { SUMMARY_LABELS, type ExportLocale } from '../labels';
import type { ExportSummary } from './writer';
import { zonedDateTimeParts } from '../zoned-time';
import { columnLetters, inlineStringCell, NUM_FMT, numberCell, textToCell, wallClockToSerial, xmlEscape, xmlNumber } from './xlsx-cells';

/*
 * The fixed parts of the workbook (ECMA-376 SpreadsheetML, the subset Excel,
 * LibreOffice and SheetJS read): content types, relationships, workbook,
 * styles, a data sheet's frame around its rows, and the `Résumé` sheet.
 * Each is built once per file, as text.
 */

const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const NS_MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const NS_REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const NS_PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships';
const CT_SHEET = 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml';

/** Number formats Excel knows by id (ECMA-376 §18.8.30); others get ids from 164. */
const BUILTIN_NUM_FMTS: Readonly<Record<string, number>> = {
  General: 0,
  '0': 1,
  '0.00': 2,
  '#,##0': 3,
  '#,##0.00': 4,
  '0%': 9,
  '0.00%': 10,
  '@': 49,
};

interface CellFormat {
  numFmt: string;
  bold?: boolean;
  /** Left, top, wrapped (the Résumé's values). */
  wrap?: boolean;
}

/**
 * The styles part, built from the cell formats the file uses: `add` gives a
 * format's `s` index (formats are shared), `xml()` the part.
 */
export class StyleSheet {
  private readonly formats: CellFormat[] = [{ numFmt: 'General' }];
  private readonly index = new Map<string, number>([['General||', 0]]);

  add(format: CellFormat): number {
    const key = `${format.numFmt}|${format.bold ? 'b' : ''}|${format.wrap ? 'w' : ''}`;
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.formats.length;
      this.formats.push(format);
      this.index.set(key, id);
    }
    return id;
  }

  xml(): string {
    const custom = new Map<string, number>();
    const numFmtId = (code: string) => {
      const builtin = BUILTIN_NUM_FMTS[code];
      if (builtin !== undefined) return builtin;
      let id = custom.get(code);
      if (id === undefined) custom.set(code, (id = 164 + custom.size));
      return id;
    };
    const xfs = this.formats.map((f) => {
      const id = numFmtId(f.numFmt);
      const attrs = `numFmtId="${id}" fontId="${f.bold ? 1 : 0}" fillId="0" borderId="0" xfId="0"` +
        `${id ? ' applyNumberFormat="1"' : ''}${f.bold ? ' applyFont="1"' : ''}${f.wrap ? ' applyAlignment="1"' : ''}`;
      return f.wrap ? `<xf ${attrs}><alignment horizontal="left" vertical="top" wrapText="1"/></xf>` : `<xf ${attrs}/>`;
    });
    const numFmts = [...custom].map(([code, id]) => `<numFmt numFmtId="${id}" formatCode="${xmlEscape(code)}"/>`);
    const font = (bold: boolean) => `<font>${bold ? '<b/>' : ''}<sz val="11"/><name val="Calibri"/><family val="2"/></font>`;
    return (
      `${XML_DECL}<styleSheet xmlns="${NS_MAIN}">` +
      (numFmts.length ? `<numFmts count="${numFmts.length}">${numFmts.join('')}</numFmts>` : '') +
      `<fonts count="2">${font(false)}${font(true)}</fonts>` +
      '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
      '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
      '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
      `<cellXfs count="${xfs.length}">${xfs.join('')}</cellXfs>` +
      '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
      '<dxfs count="0"/><tableStyles count="0"/></styleSheet>'
    );
  }
}

export interface SheetColumn {
  /** Width in characters. */
  width: number;
  /** `s` index of the column's look. */
  style: number;
}

function colsXml(columns: readonly SheetColumn[]): string {
  return `<cols>${columns.map((c, i) => `<col min="${i + 1}" max="${i + 1}" width="${c.width}" style="${c.style}" customWidth="1"/>`).join('')}</cols>`;
}

const WORKSHEET_OPEN = `${XML_DECL}<worksheet xmlns="${NS_MAIN}" xmlns:r="${NS_REL}">`;
const PAGE_MARGINS = '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>';

/**
 * A data sheet up to its first data row: frozen first row, column widths
 * and looks, and the bold header row (row 1).
 */
export function dataSheetHead(columns: readonly SheetColumn[], headers: readonly string[], headerStyle: number): string {
  const header = headers.map((h, i) => inlineStringCell(`${columnLetters(i + 1)}1`, headerStyle, h)).join('');
  return (
    WORKSHEET_OPEN +
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' +
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>' +
    `<sheetFormatPr defaultRowHeight="15"/>${colsXml(columns)}<sheetData><row r="1">${header}</row>`
  );
}

/** A data sheet after its last row: the filter over the header and every data row. */
export function dataSheetTail(columnCount: number, dataRows: number): string {
  return `</sheetData><autoFilter ref="A1:${columnLetters(columnCount)}${dataRows + 1}"/>${PAGE_MARGINS}</worksheet>`;
}

export interface SummaryStyles {
  label: number;
  text: number;
  dateTime: number;
  integer: number;
  money: number;
}

export function summaryStyles(styles: StyleSheet): SummaryStyles {
  return {
    label: styles.add({ numFmt: 'General', bold: true }),
    text: styles.add({ numFmt: 'General', wrap: true }),
    dateTime: styles.add({ numFmt: NUM_FMT.dateTime, wrap: true }),
    integer: styles.add({ numFmt: NUM_FMT.integer, wrap: true }),
    money: styles.add({ numFmt: NUM_FMT.money, wrap: true }),
  };
}

type Fact = [label: string, kind: 'text' | 'dateTime' | 'integer' | 'money', value: string];

/** The `Résumé` sheet: one fact a row, its label in bold; instants on the tenant's wall clock. */
export function summarySheet(s: ExportSummary, dataSheetName: string, locale: ExportLocale, timeZone: string, st: SummaryStyles): string {
  const L = SUMMARY_LABELS;
  const wallClock = (at: Date) => String(wallClockToSerial(zonedDateTimeParts(at, timeZone)));
  const integer = (key: string, v: number | string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new TypeError(`${key}: expected an integer, got ${JSON.stringify(v)}`);
    return String(n);
  };
  const facts: Fact[] = [
    [L.exportKind[locale], 'text', dataSheetName],
    [L.tenant[locale], 'text', s.tenantName],
    [L.requestedBy[locale], 'text', s.requestedBy],
    [L.requestedAt[locale], 'dateTime', wallClock(s.requestedAt)],
    [L.generatedAt[locale], 'dateTime', wallClock(s.generatedAt)],
    [L.timeZone[locale], 'text', timeZone],
    [L.selection[locale], 'text', s.selection],
    [L.invoiceCount[locale], 'integer', integer('invoiceCount', s.invoiceCount)],
    [L.creditNoteCount[locale], 'integer', integer('creditNoteCount', s.creditNoteCount)],
    [L.rowCount[locale], 'integer', integer('rowCount', s.rowCount)],
    [L.totalDue[locale], 'money', xmlNumber('totalDue', s.totalDue)],
    [L.totalPaid[locale], 'money', xmlNumber('totalPaid', s.totalPaid)],
    [L.totalRemaining[locale], 'money', xmlNumber('totalRemaining', s.totalRemaining)],
  ];
  for (const fact of s.extraFacts ?? []) {
    const label = fact.label[locale];
    if (fact.type === 'money') facts.push([label, 'money', xmlNumber(fact.label['en-GB'], String(fact.value))]);
    else if (fact.type === 'integer') facts.push([label, 'integer', integer(fact.label['en-GB'], fact.value)]);
    else facts.push([label, 'text', String(fact.value)]);
  }
  const rows = facts.map(([label, kind, value], i) => {
    const r = i + 1;
    const valueCell = kind === 'text' ? inlineStringCell(`B${r}`, st.text, textToCell(value)) : numberCell(`B${r}`, st[kind], value);
    return `<row r="${r}">${inlineStringCell(`A${r}`, st.label, label)}${valueCell}</row>`;
  });
  return (
    `${WORKSHEET_OPEN}<sheetFormatPr defaultRowHeight="15"/>` +
    colsXml([{ width: 32, style: st.label }, { width: 60, style: st.text }]) +
    `<sheetData>${rows.join('')}</sheetData>${PAGE_MARGINS}</worksheet>`
  );
}

/** Path of the n-th sheet (1-based) in the package. */
export const sheetPath = (n: number) => `xl/worksheets/sheet${n}.xml`;

/** `[Content_Types].xml`, `_rels/.rels`, `xl/workbook.xml` and its relationships, for sheets in this order. */
export function packageParts(sheetNames: readonly string[]): [name: string, xml: string][] {
  const sheets = sheetNames.map((name, i) => ({ name, n: i + 1 }));
  return [
    [
      'xl/workbook.xml',
      `${XML_DECL}<workbook xmlns="${NS_MAIN}" xmlns:r="${NS_REL}"><bookViews><workbookView/></bookViews><sheets>` +
        sheets.map(({ name, n }) => `<sheet name="${xmlEscape(name)}" sheetId="${n}" r:id="rId${n}"/>`).join('') +
        '</sheets></workbook>',
    ],
    [
      'xl/_rels/workbook.xml.rels',
      `${XML_DECL}<Relationships xmlns="${NS_PKG_REL}">` +
        sheets.map(({ n }) => `<Relationship Id="rId${n}" Type="${NS_REL}/worksheet" Target="worksheets/sheet${n}.xml"/>`).join('') +
        `<Relationship Id="rId${sheets.length + 1}" Type="${NS_REL}/styles" Target="styles.xml"/></Relationships>`,
    ],
    [
      '_rels/.rels',
      `${XML_DECL}<Relationships xmlns="${NS_PKG_REL}"><Relationship Id="rId1" Type="${NS_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    ],
    [
      '[Content_Types].xml',
      `${XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
        sheets.map(({ n }) => `<Override PartName="/${sheetPath(n)}" ContentType="${CT_SHEET}"/>`).join('') +
        '</Types>',
    ],
  ];
}
