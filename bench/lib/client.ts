import { performance } from 'node:perf_hooks';
import type { Client } from 'graphql-ws';
import { ExportState, FINAL_STATUSES, exportWsClient, followExport, gql, requestExport } from '../../dev/client/export-client';

export type { ExportState };

/** What one export looked like from the client's side; times in ms on performance.now()'s clock. */
export interface ExportTiming {
  id: string;
  final: ExportState;
  /** Just before the mutation was sent. */
  requestedAt: number;
  /** The mutation's answer arrived (export recorded and enqueued). */
  acceptedAt: number;
  /** First RUNNING state received (the worker took the job). */
  runningAt: number | null;
  /** First state with processedRows > 0. */
  firstRowsAt: number | null;
  /** Final state received. */
  doneAt: number;
  /** startedAt (the worker's UPDATE, database clock) → RUNNING received, ms; same machine, so the clocks agree. */
  startToRunningMs: number | null;
  events: number;
}

export interface ExportRequestInput {
  kind: 'INVOICES' | 'INVOICE_LINES' | 'ACCOUNTING_ENTRIES';
  format: 'XLSX' | 'CSV' | 'FEC' | 'QUADRA' | 'XIMPORT' | 'EBP' | 'CEGID' | 'SAGE100';
  locale?: string;
  selection: { filter?: Record<string, unknown>; invoiceIds?: string[] };
}

export class BenchClient {
  private readonly ws: Client;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {
    // One connection for the whole run: a subscription does not pay a handshake.
    this.ws = exportWsClient(url, token, { lazy: false });
  }

  gql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    return gql<T>(this.url, this.token, query, variables);
  }

  /**
   * requestInvoiceExport over HTTP, then invoiceExportUpdated over the
   * WebSocket until a final state. Rejects if the export does not complete.
   */
  async runExport(input: ExportRequestInput, timeoutMs = 30 * 60_000): Promise<ExportTiming> {
    const requestedAt = performance.now();
    const { id } = await requestExport(this.url, this.token, { locale: 'fr-FR', ...input });
    const acceptedAt = performance.now();
    let runningAt: number | null = null;
    let firstRowsAt: number | null = null;
    let startToRunningMs: number | null = null;
    let doneAt = 0;
    let events = 0;
    const state = await followExport(
      this.ws,
      id,
      (s, at) => {
        events++;
        if (runningAt === null && s.status !== 'QUEUED') {
          runningAt = at;
          if (s.startedAt) startToRunningMs = Date.now() - Date.parse(s.startedAt);
        }
        if (firstRowsAt === null && s.processedRows > 0) firstRowsAt = at;
        if (FINAL_STATUSES.has(s.status)) doneAt = at;
      },
      timeoutMs,
    );
    const final = { state, at: doneAt || performance.now() };
    if (final.state.status !== 'COMPLETED') {
      throw new Error(`export ${id} (${input.kind} ${input.format}) ended ${final.state.status}: ${JSON.stringify(final.state.error)}`);
    }
    return { id, final: final.state, requestedAt, acceptedAt, runningAt, firstRowsAt, doneAt: final.at, startToRunningMs, events };
  }

  async close(): Promise<void> {
    await this.ws.dispose();
  }
}
