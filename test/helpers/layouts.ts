/** Writing an importer layout file in memory, from document rows, through the accounting kind's writer (tests only). */
import { PassThrough } from 'node:stream';
import type { AccountingSourceRow } from '../../src/accounting/entries';
import { AccountingEntriesWriter } from '../../src/accounting/entries-writer';
import { LayoutFileWriter, importLayout } from '../../src/accounting/layouts';
import type { AccountingSettingsData } from '../../src/accounting/settings';
import type { ExportFormat } from '../../src/entities/enums';
import { formatCents, toCents } from '../../src/money';

export interface LayoutRun {
  bytes: Buffer;
  writer: LayoutFileWriter;
}

export async function writeLayoutFile(format: ExportFormat, docs: AccountingSourceRow[][], settings: AccountingSettingsData): Promise<LayoutRun> {
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  const writer = new LayoutFileWriter(importLayout(format)!, { settings }, output);
  const entries = new AccountingEntriesWriter(writer, { settings, validDate: '2026-12-02' }, { payersWithoutIdentifier: 0, alreadyTransferred: 0 });
  let due = 0n;
  let credits = 0;
  for (const rows of docs) {
    due += toCents(rows[0].amountDue);
    if (rows[0].type === 'CREDIT_NOTE') credits++;
    for (const r of rows) await entries.writeRow(r);
  }
  const totalDue = formatCents(due);
  await entries.finish({
    tenantName: 't', requestedBy: 'u', requestedAt: new Date(), generatedAt: new Date(), selection: '',
    invoiceCount: docs.length - credits, creditNoteCount: credits, rowCount: 0, totalDue, totalPaid: '0.00', totalRemaining: '0.00',
  });
  return { bytes: Buffer.concat(chunks), writer };
}
