/**
 * What the demo (and anyone checking an export by hand) reads back from a
 * downloaded file: the row count and the sums of its money columns, in
 * integer cents (src/money.ts), never in floats.
 *
 * Only the fr-FR headers are known here (docs/files.md): the demo asks for fr-FR
 * files, as the product's users do.
 */
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { toCents } from '../../src/money';

export interface FileTotals {
  /** Data rows (header rows and the Résumé sheet excluded). */
  rows: number;
  /** Distinct `N° de pièce` values: invoices and credit notes in the file. */
  documents: number;
  /** Sum of each money column found, by header, in cents. */
  sums: Record<string, bigint>;
}

export const INVOICE_MONEY_COLUMNS = ['Montant dû', 'Montant payé', 'Restant dû'] as const;
export const LINE_MONEY_COLUMNS = ['Montant', 'Remise'] as const;
const DOCUMENT_NUMBER = 'N° de pièce';
const SUMMARY_SHEETS = new Set(['Résumé', 'Summary']);

function columnIndexes(header: string[], wanted: readonly string[]): Map<string, number> {
  const found = new Map<string, number>();
  for (const name of wanted) {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`The file has no column "${name}" (columns: ${header.join(' | ')})`);
    found.set(name, i);
  }
  return found;
}

/** An XLSX numeric cell holding an amount with two decimals → cents, exactly. */
function cellCents(value: unknown, where: string): bigint {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${where}: expected a numeric cell, got ${JSON.stringify(value)}`);
  }
  return toCents(value.toFixed(2));
}

/** A CSV amount in either locale ("-500,50" / "-500.50") → cents, exactly. */
function csvCents(value: string, where: string): bigint {
  try {
    return toCents(value.replace(',', '.'));
  } catch {
    throw new Error(`${where}: expected an amount, got ${JSON.stringify(value)}`);
  }
}

/** Every data sheet (a big export continues on further sheets); not the Résumé. */
export async function xlsxTotals(file: Buffer, moneyColumns: readonly string[]): Promise<FileTotals> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(file as unknown as ArrayBuffer);
  const sums: Record<string, bigint> = Object.fromEntries(moneyColumns.map((c) => [c, 0n]));
  const documents = new Set<string>();
  let rows = 0;
  const dataSheets = workbook.worksheets.filter((ws) => !SUMMARY_SHEETS.has(ws.name));
  if (!dataSheets.length) throw new Error('The workbook has no data sheet');
  for (const ws of dataSheets) {
    const header = (ws.getRow(1).values as unknown[]).slice(1).map((v) => String(v ?? ''));
    const idx = columnIndexes(header, [...moneyColumns, DOCUMENT_NUMBER]);
    ws.eachRow((row, n) => {
      if (n === 1) return;
      rows++;
      for (const c of moneyColumns) sums[c] += cellCents(row.getCell(idx.get(c)! + 1).value, `${ws.name}!row ${n} "${c}"`);
      documents.add(String(row.getCell(idx.get(DOCUMENT_NUMBER)! + 1).value));
    });
  }
  return { rows, documents: documents.size, sums };
}

export function csvTotals(file: Buffer, locale: 'fr-FR' | 'en-GB', moneyColumns: readonly string[]): FileTotals {
  const records: string[][] = parse(file, { delimiter: locale === 'fr-FR' ? ';' : ',', bom: true });
  if (!records.length) throw new Error('The CSV file is empty (not even a header)');
  const idx = columnIndexes(records[0], [...moneyColumns, DOCUMENT_NUMBER]);
  const sums: Record<string, bigint> = Object.fromEntries(moneyColumns.map((c) => [c, 0n]));
  const documents = new Set<string>();
  records.slice(1).forEach((r, i) => {
    for (const c of moneyColumns) sums[c] += csvCents(r[idx.get(c)!], `line ${i + 2} "${c}"`);
    documents.add(r[idx.get(DOCUMENT_NUMBER)!]);
  });
  return { rows: records.length - 1, documents: documents.size, sums };
}

/** What the demo checks in an accounting export: the balances, in cents. */
export interface EntryTotals extends FileTotals {
  debit: bigint;
  credit: bigint;
  /** Receivable lines, debit − credit: equals the signed sum of amount_due. */
  receivable: bigint;
  /** Entries whose debit is not their credit (must be 0). */
  unbalancedEntries: number;
  /** Lines without exactly the 18 fields of the FEC (must be 0). */
  malformedLines: number;
}

/** A FEC file (ISO-8859-15, tab, CRLF): entries (EcritureNum) as documents; the receivable account's net. */
export function fecTotals(file: Buffer, receivableAccount = '411000'): EntryTotals {
  const text = file.toString('latin1'); // digits, tabs and CRLF are the same bytes in ISO-8859-15
  const lines = text.split('\r\n');
  if (lines.at(-1) === '') lines.pop();
  const byEntry = new Map<string, bigint>();
  let debit = 0n;
  let credit = 0n;
  let receivable = 0n;
  let malformedLines = 0;
  for (const [i, line] of lines.slice(1).entries()) {
    const f = line.split('\t');
    if (f.length !== 18) {
      malformedLines++;
      continue;
    }
    const d = csvCents(f[11], `line ${i + 2} "Debit"`);
    const c = csvCents(f[12], `line ${i + 2} "Credit"`);
    debit += d;
    credit += c;
    if (f[4] === receivableAccount) receivable += d - c;
    byEntry.set(f[2], (byEntry.get(f[2]) ?? 0n) + d - c);
  }
  const unbalancedEntries = [...byEntry.values()].filter((v) => v !== 0n).length;
  return { rows: lines.length - 1, documents: byEntry.size, sums: { Debit: debit, Credit: credit }, debit, credit, receivable, unbalancedEntries, malformedLines };
}
