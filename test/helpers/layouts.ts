/**
 * Tests of the importer layouts (docs/accounting.md): the golden selection
 * (one definition, written in memory by the unit tests and into PostgreSQL by
 * the integration tests), a writer in memory, and a reader per format that
 * parses a file back into lines.
 */
import { PassThrough } from 'node:stream';
import { documentOf, type FirstSourceRow } from '../../src/accounting/entries';
import { importLayout } from '../../src/accounting/layouts';
import { decodeLatin9 } from '../../src/accounting/fec-text';
import { DEFAULT_ACCOUNTING_SETTINGS, type AccountingSettingsData } from '../../src/accounting/settings';
import { ExportFormat, ExportKind, InvoiceType } from '../../src/entities/enums';
import { openExportFile } from '../../src/exports/kinds';
import { AccountingEntriesWriter } from '../../src/exports/kinds/accounting-entries-writer';
import { LayoutFileWriter } from '../../src/exports/writers/layout';
import type { ExportSummary } from '../../src/exports/writers/writer';
import { formatCents, toCents } from '../../src/money';

export { balanceOf, readLayoutFile, type ReadFile, type ReadLine } from '../../scripts/lib/layout-totals';

const cents = (amount: string) => toCents(amount.trim().replace(',', '.'));

export const LAYOUT_FORMATS = [ExportFormat.QUADRA, ExportFormat.XIMPORT, ExportFormat.EBP, ExportFormat.CEGID, ExportFormat.SAGE100] as const;

export interface GoldenPayer {
  lastName: string;
  firstName: string;
  customerIdentifier: string | null;
}
export interface GoldenLine {
  label: string;
  unitPrice: string;
  vatRate?: string;
  accountingAccount?: string;
}
export interface GoldenDocument {
  number: string;
  type: InvoiceType;
  billingDate: string;
  payer: keyof typeof GOLDEN_PAYERS;
  lines: GoldenLine[];
}

export const GOLDEN_PAYERS = {
  busson: { lastName: 'BUSSON', firstName: 'Marie', customerIdentifier: '39801' },
  almeida: { lastName: "D'Almeida-Léon", firstName: 'Zoé « Œ »', customerIdentifier: '000417' },
  norway: { lastName: 'NORWAY', firstName: 'Julien', customerIdentifier: null },
  nguyen: { lastName: 'NGUYỄN', firstName: 'Thảo 🎻', customerIdentifier: 'C518' },
} satisfies Record<string, GoldenPayer>;

/**
 * The seed's three kinds of documents plus the edge cases of the contract:
 * accents, ligatures, non-Latin-1 names, `"` `,` `;` TAB and line breaks in
 * labels, a label longer than every width, a credit note, a discount line,
 * several VAT rates, a payer without customer identifier.
 */
export const GOLDEN_DOCUMENTS: GoldenDocument[] = [
  { number: 'F163881', type: InvoiceType.INVOICE, billingDate: '2025-01-25', payer: 'busson', lines: [
    { label: 'Cours de piano "débutant"; 30 min\thebdomadaire', unitPrice: '300.00', accountingAccount: '706100' },
    { label: 'Méthode de solfège', unitPrice: '12.66', vatRate: '5.50', accountingAccount: '707100' },
    { label: 'Accordeur électronique, modèle « pro »', unitPrice: '24.00', vatRate: '20.00', accountingAccount: '707000' },
    { label: 'Remise famille nombreuse', unitPrice: '-30.00', accountingAccount: '706100' },
    { label: 'Cœur d’Alène – « été »… Łódź 2€ : cours collectif de formation musicale, cycle 2, année 3, option jazz et improvisation', unitPrice: '40.00', vatRate: '10.00', accountingAccount: '706200' },
  ] },
  { number: 'A000001', type: InvoiceType.CREDIT_NOTE, billingDate: '2025-02-02', payer: 'norway', lines: [
    { label: 'Avoir : cours annulés\r\nen mars', unitPrice: '-150.00', accountingAccount: '706100' },
    { label: 'Anche cassée', unitPrice: '-6.00', vatRate: '20.00', accountingAccount: '707000' },
  ] },
  { number: 'F000102', type: InvoiceType.INVOICE, billingDate: '2025-03-30', payer: 'nguyen', lines: [
    { label: 'Adhésion annuelle Œuvre 🎶', unitPrice: '25.00', accountingAccount: '756000' },
    { label: 'Ligne offerte', unitPrice: '0.00' },
  ] },
  { number: 'F000103', type: InvoiceType.INVOICE, billingDate: '2025-03-31', payer: 'almeida', lines: [
    { label: 'Location violon 3/4, "Stentor"', unitPrice: '45.50', vatRate: '20.00', accountingAccount: '706200' },
  ] },
  { number: 'F000104', type: InvoiceType.INVOICE, billingDate: '2025-04-01', payer: 'busson', lines: [
    { label: 'Stage d’été', unitPrice: '80.00' },
  ] },
];

/** Labels of the golden settings: a `"` and a `;` in a CompteLib too. */
export const GOLDEN_ACCOUNT_LABELS: Record<string, string> = {
  '706100': 'Cours',
  '706200': "Location d'instruments",
  '707000': 'Boutique "accessoires"; divers',
  '756000': 'Cotisations',
};

export const goldenSettings = (over: Partial<AccountingSettingsData> = {}): AccountingSettingsData => ({
  ...DEFAULT_ACCOUNTING_SETTINGS,
  vatAccounts: { ...DEFAULT_ACCOUNTING_SETTINGS.vatAccounts },
  accountLabels: { ...GOLDEN_ACCOUNT_LABELS },
  ...over,
});

const two = (rate: string) => (rate.includes('.') ? rate : `${rate}.00`);

/** The golden documents as the kind's SELECT streams them. */
export function goldenRows(docs: GoldenDocument[] = GOLDEN_DOCUMENTS): FirstSourceRow[][] {
  return docs.map((d, n) => {
    const payer: GoldenPayer = GOLDEN_PAYERS[d.payer];
    const due = d.lines.reduce((a, l) => a + toCents(l.unitPrice), 0n);
    return d.lines.map((l, i) => ({
      invoiceId: `00000000-0000-4000-8000-${String(n + 1).padStart(12, '0')}`,
      type: d.type, number: d.number, billingDate: d.billingDate, amountDue: formatCents(due),
      payerLastName: payer.lastName, payerFirstName: payer.firstName, customerIdentifier: payer.customerIdentifier,
      position: i + 1, label: l.label, amount: formatCents(toCents(l.unitPrice)), vatRate: two(l.vatRate ?? '0.00'),
      accountingAccount: l.accountingAccount ?? null, analyticCode: null,
    }));
  });
}

function summaryOf(docs: FirstSourceRow[][]): ExportSummary {
  const due = docs.reduce((a, rows) => a + toCents(documentOf(rows[0]).amountDue), 0n);
  const credits = docs.filter((rows) => rows[0].type === InvoiceType.CREDIT_NOTE).length;
  return {
    tenantName: 't', requestedBy: 'u', requestedAt: new Date(), generatedAt: new Date(), selection: '',
    invoiceCount: docs.length - credits, creditNoteCount: credits, rowCount: 0, totalDue: formatCents(due), totalPaid: '0.00', totalRemaining: '0.00',
  };
}

function collect(output: PassThrough): () => Buffer {
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks);
}

export interface LayoutRun {
  bytes: Buffer;
  writer: LayoutFileWriter;
}

/** A layout file written in memory through the accounting kind's entries writer. */
export async function writeLayoutFile(format: ExportFormat, docs: FirstSourceRow[][], settings: AccountingSettingsData): Promise<LayoutRun> {
  const output = new PassThrough();
  const bytes = collect(output);
  const writer = new LayoutFileWriter(importLayout(format)!, { settings }, output);
  const entries = new AccountingEntriesWriter(writer, { settings, validDate: '2026-12-02' }, { payersWithoutIdentifier: 0, alreadyTransferred: 0 });
  for (const rows of docs) for (const r of rows) await entries.writeRow(r);
  await entries.finish(summaryOf(docs));
  return { bytes: bytes(), writer };
}

/** The FEC of the same documents, in memory. */
export async function writeFecFile(docs: FirstSourceRow[][], settings: AccountingSettingsData): Promise<Buffer> {
  const output = new PassThrough();
  const bytes = collect(output);
  const { writer: inner } = openExportFile(ExportKind.ACCOUNTING_ENTRIES, { format: ExportFormat.FEC, locale: 'fr-FR', output, at: new Date(), timeZone: 'Europe/Paris' });
  const entries = new AccountingEntriesWriter(inner, { settings, validDate: '2026-12-02' }, { payersWithoutIdentifier: 0, alreadyTransferred: 0 });
  for (const rows of docs) for (const r of rows) await entries.writeRow(r);
  await entries.finish(summaryOf(docs));
  return bytes();
}

/** The same figures from a FEC file. */
export function fecBalance(fec: Buffer): { entries: number; lines: number; debit: bigint; credit: bigint } {
  const rows = decodeLatin9(fec).slice(0, -2).split('\r\n').slice(1).map((r) => r.split('\t'));
  return {
    entries: new Set(rows.map((f) => f[2])).size,
    lines: rows.length,
    debit: rows.reduce((a, f) => a + cents(f[11]), 0n),
    credit: rows.reduce((a, f) => a + cents(f[12]), 0n),
  };
}
