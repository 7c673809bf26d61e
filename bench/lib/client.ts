import { performance } from 'node:perf_hooks';
import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

const FIELDS = 'id kind format status processedRows totalRows rowCount fileName fileSize downloadUrl error { code message } startedAt completedAt';

export interface ExportState {
  id: string;
  kind: string;
  format: string;
  status: string;
  processedRows: number;
  totalRows: number | null;
  rowCount: number | null;
  fileName: string | null;
  fileSize: number | null;
  downloadUrl: string | null;
  error: { code: string; message: string } | null;
  startedAt: string | null;
  completedAt: string | null;
}

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
  kind: 'INVOICES' | 'INVOICE_LINES';
  format: 'XLSX' | 'CSV';
  locale?: string;
  selection: { filter?: Record<string, unknown>; invoiceIds?: string[] };
}

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED']);

export class BenchClient {
  private readonly ws: Client;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {
    this.ws = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      // One connection for the whole run: a subscription does not pay a handshake.
      lazy: false,
    });
  }

  async gql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join('; ')}`);
    return body.data!;
  }

  /**
   * requestInvoiceExport over HTTP, then invoiceExportUpdated over the
   * WebSocket until a final state. Rejects if the export does not complete.
   */
  async runExport(input: ExportRequestInput, timeoutMs = 30 * 60_000): Promise<ExportTiming> {
    const requestedAt = performance.now();
    const data = await this.gql<{ requestInvoiceExport: ExportState }>(
      `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { ${FIELDS} } }`,
      { input: { locale: 'fr-FR', ...input } },
    );
    const acceptedAt = performance.now();
    const id = data.requestInvoiceExport.id;
    let runningAt: number | null = null;
    let firstRowsAt: number | null = null;
    let startToRunningMs: number | null = null;
    let events = 0;
    const final = await new Promise<{ state: ExportState; at: number }>((resolve, reject) => {
      let last: ExportState | undefined;
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`export ${id} (${input.kind} ${input.format}) not finished after ${timeoutMs} ms: ${JSON.stringify(last)}`));
      }, timeoutMs);
      const unsubscribe = this.ws.subscribe<{ invoiceExportUpdated: ExportState }>(
        { query: `subscription($id: ID!) { invoiceExportUpdated(id: $id) { ${FIELDS} } }`, variables: { id } },
        {
          next: (msg) => {
            const at = performance.now();
            if (msg.errors?.length) {
              clearTimeout(timer);
              reject(new Error(`subscription: ${msg.errors.map((e) => e.message).join('; ')}`));
              return;
            }
            const s = msg.data!.invoiceExportUpdated;
            last = s;
            events++;
            if (runningAt === null && s.status !== 'QUEUED') {
              runningAt = at;
              if (s.startedAt) startToRunningMs = Date.now() - Date.parse(s.startedAt);
            }
            if (firstRowsAt === null && s.processedRows > 0) firstRowsAt = at;
            if (FINAL.has(s.status)) {
              clearTimeout(timer);
              resolve({ state: s, at });
            }
          },
          error: (err) => {
            clearTimeout(timer);
            reject(err instanceof Error ? err : new Error(`subscription error: ${JSON.stringify(err)}`));
          },
          complete: () => {
            clearTimeout(timer);
            if (!last || !FINAL.has(last.status)) reject(new Error(`subscription of ${id} ended before a final state`));
          },
        },
      );
    });
    if (final.state.status !== 'COMPLETED') {
      throw new Error(`export ${id} (${input.kind} ${input.format}) ended ${final.state.status}: ${JSON.stringify(final.state.error)}`);
    }
    return { id, final: final.state, requestedAt, acceptedAt, runningAt, firstRowsAt, doneAt: final.at, startToRunningMs, events };
  }

  async close(): Promise<void> {
    await this.ws.dispose();
  }
}
