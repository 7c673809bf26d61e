import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/**
 * The export API as a front end uses it: a mutation over HTTP, then the
 * subscription over graphql-ws until a final state. Shared by the demo, the
 * benchmark and the tests, so that they all talk to the service the same way.
 */
export interface ExportState {
  id: string;
  kind: string;
  format: string;
  status: string;
  locale: string;
  processedRows: number;
  totalRows: number | null;
  progress: number;
  rowCount: number | null;
  fileName: string | null;
  fileSize: number | null;
  downloadUrl: string | null;
  downloadUrlExpiresAt: string | null;
  error: { code: string; message: string } | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  expiresAt: string | null;
  /** Why a QUEUED export has not started: TENANT_CONCURRENCY, RETRY, QUEUE_UNAVAILABLE, WORKER_LOST. */
  waitingReason: string | null;
  queuePosition: number | null;
  notBefore: string | null;
}

export const EXPORT_FIELDS = `id kind format status locale processedRows totalRows progress rowCount fileName fileSize
  downloadUrl downloadUrlExpiresAt error { code message } createdAt startedAt completedAt expiresAt
  waitingReason queuePosition notBefore`;

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED']);

export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; [k: string]: unknown };
}

export class GraphQLRequestError extends Error {
  constructor(readonly errors: GraphQLErrorBody[]) {
    super(errors.map((e) => `${e.extensions?.code ?? 'GraphQL error'}: ${e.message}`).join('; '));
    this.name = 'GraphQLRequestError';
  }
}

/** POST /graphql with a bearer token; throws GraphQLRequestError on `errors`. */
export async function gql<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: GraphQLErrorBody[] };
  if (body.errors?.length) throw new GraphQLRequestError(body.errors);
  return body.data!;
}

export async function requestExport(url: string, token: string, input: Record<string, unknown>): Promise<ExportState> {
  const data = await gql<{ requestInvoiceExport: ExportState }>(
    url,
    token,
    `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { ${EXPORT_FIELDS} } }`,
    { input },
  );
  return data.requestInvoiceExport;
}

/** A graphql-ws client for `httpUrl` (…/graphql), authenticated in connection_init. */
export function exportWsClient(httpUrl: string, token: string, opts: { lazy?: boolean } = {}): Client {
  return createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: opts.lazy ?? true,
  });
}

function describeWsError(err: unknown): string {
  if (Array.isArray(err)) return err.map((e) => (e as { message?: string }).message).join('; ');
  if (err instanceof Error) return err.message;
  const close = err as { code?: number; reason?: string };
  if (close && typeof close.code === 'number') return `the WebSocket closed (${close.code}${close.reason ? ` ${close.reason}` : ''})`;
  return String(err);
}

export class SubscriptionError extends Error {
  constructor(
    message: string,
    readonly errors?: readonly GraphQLErrorBody[],
  ) {
    super(message);
    this.name = 'SubscriptionError';
  }
}

/**
 * invoiceExportUpdated until the server completes it after a final state.
 * `onState` sees every message (the first is the current state). Resolves
 * with the last state; rejects on a GraphQL error (with its `errors`), a
 * closed socket, or after `timeoutMs`.
 */
export function followExport(
  client: Client,
  id: string,
  onState: (state: ExportState, receivedAt: number) => void = () => undefined,
  timeoutMs = 10 * 60_000,
): Promise<ExportState> {
  return new Promise((resolve, reject) => {
    let last: ExportState | undefined;
    let unsubscribe = () => {};
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new SubscriptionError(`export ${id}: no final state within ${timeoutMs / 1000} s (last: ${last?.status ?? 'none'})`));
    }, timeoutMs);
    unsubscribe = client.subscribe<{ invoiceExportUpdated: ExportState }>(
      { query: `subscription($id: ID!) { invoiceExportUpdated(id: $id) { ${EXPORT_FIELDS} } }`, variables: { id } },
      {
        next: (msg) => {
          const at = performance.now();
          if (msg.errors?.length) {
            clearTimeout(timer);
            reject(new SubscriptionError(msg.errors.map((e) => e.message).join('; '), msg.errors as GraphQLErrorBody[]));
            return;
          }
          last = msg.data!.invoiceExportUpdated;
          onState(last, at);
        },
        error: (err) => {
          clearTimeout(timer);
          reject(new SubscriptionError(`subscription failed: ${describeWsError(err)}`));
        },
        complete: () => {
          clearTimeout(timer);
          if (last) resolve(last);
          else reject(new SubscriptionError(`export ${id}: the subscription ended without sending the export`));
        },
      },
    );
  });
}
