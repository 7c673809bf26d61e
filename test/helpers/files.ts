import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { toCents } from '../../src/money';

export const FR_HEADERS = {
  INVOICES: ['Type de pièce', 'N° de pièce', 'Date de facturation', 'Numéro de rôle', 'Payeur', 'Période de facturation',
    'Année de facturation', 'Notes', 'Montant dû', 'Montant payé', 'Restant dû', "Total en attente d'encaissement", 'État',
    'Identifiant unique', 'Identifiant client', 'Quotient familial', 'Mode de règlement'],
  INVOICE_LINES: ['Type de pièce', 'N° de pièce', 'Date de facturation', 'Payeur', 'Identifiant client', 'Année de facturation',
    'Période de facturation', 'N° de ligne', 'Désignation', 'Élève', 'Activité', 'Quantité', 'Prix unitaire', 'Remise', 'Montant',
    'Taux de TVA', 'Compte comptable', 'Code analytique'],
} as const;

/** Money columns of each kind (fr-FR header → SQL expression summing it). */
export const MONEY_SQL = {
  INVOICES: { 'Montant dû': 'i.amount_due', 'Montant payé': 'i.amount_paid', 'Restant dû': 'i.remaining_due', "Total en attente d'encaissement": 'i.pending_collection' },
  INVOICE_LINES: { 'Prix unitaire': 'l.unit_price', Remise: 'l.discount_amount', Montant: 'l.amount' },
} as const;

export interface Sheet {
  name: string;
  header: string[];
  rows: ExcelJS.Row[];
}

export async function readXlsx(buf: Buffer): Promise<{ workbook: ExcelJS.Workbook; sheets: Sheet[] }> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(buf as unknown as ArrayBuffer);
  const sheets = workbook.worksheets.map((ws) => {
    const rows: ExcelJS.Row[] = [];
    ws.eachRow((row, n) => {
      if (n > 1) rows.push(row);
    });
    const header = (ws.getRow(1).values as unknown[]).slice(1).map(String);
    return { name: ws.name, header, rows };
  });
  return { workbook, sheets };
}

export function readCsv(buf: Buffer, locale: string): { header: string[]; rows: string[][]; raw: string } {
  const raw = buf.toString('utf8');
  const records: string[][] = parse(buf, { delimiter: locale === 'fr-FR' ? ';' : ',', bom: true, relax_column_count: false });
  return { header: records[0], rows: records.slice(1), raw };
}

/** A CSV amount ("-500,50" or "-500.50") → cents, exactly. */
export const csvCents = (v: string) => toCents(v.replace(',', '.'));
/** An XLSX numeric cell holding a 2-decimal amount → cents. */
export const cellCents = (v: unknown) => toCents((v as number).toFixed(2));
