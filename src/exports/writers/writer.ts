import type { Localized } from '../labels';

/**
 * What every file writer is, whatever its format (formats/index.ts registers
 * them): it turns a stream of rows into the bytes of a file, written into
 * `output`. Used as: `for await (const row of rows) await writer.writeRow(row);
 * await writer.finish(summary)`, with `output` piped to the upload.
 * Memory stays flat: `writeRow` waits while the output (and, for XLSX, the
 * zip compressor) holds more than a bounded amount of unread data.
 */
export interface ExportWriter<Row> {
  /** Resolves when the row is accepted; waits (backpressure) while the output is full. Rejects once the output failed or closed. */
  writeRow(row: Row): Promise<void>;
  /**
   * Writes the trailer (XLSX: the `Résumé` sheet from the summary; CSV: none)
   * and ends `output`; resolves when everything has been written into it
   * (its 'finish'), so the consumer must keep reading until then.
   */
  finish(summary: ExportSummary): Promise<void>;
  /** Stops writing and destroys `output` with `reason` (cancellation, failed source). Idempotent. */
  abort(reason?: Error): void;
  /** Data rows accepted so far (header and summary excluded). */
  readonly rowCount: number;
}

/** Facts printed on the `Résumé` sheet. Totals are decimal strings from SQL. */
export interface ExportSummary {
  tenantName: string;
  requestedBy: string;
  requestedAt: Date;
  generatedAt: Date;
  /** Human description of the selection, e.g. "12 factures sélectionnées" or the filter. */
  selection: string;
  invoiceCount: number;
  creditNoteCount: number;
  rowCount: number;
  totalDue: string;
  totalPaid: string;
  totalRemaining: string;
  /** Facts of a kind's own, printed after the totals (e.g. the entries' debit and credit). */
  extraFacts?: readonly SummaryFact[];
}

/** A fact of the `Résumé` sheet beyond the common ones; money is a decimal string. */
export interface SummaryFact {
  label: Localized;
  type: 'text' | 'integer' | 'money';
  value: string | number;
}
