import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export const EXPORT_FIELDS = `id kind format status locale processedRows totalRows progress rowCount fileName fileSize
  downloadUrl downloadUrlExpiresAt error { code message } createdAt startedAt completedAt expiresAt`;

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
}

export function wsClient(url: string, token: string): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
  });
}

export interface Followed {
  events: ExportState[];
  /** Resolves with every state received once the server completes the subscription. */
  done: Promise<ExportState[]>;
  /** Resolves at the first state matching `predicate`. */
  until(predicate: (e: ExportState) => boolean): Promise<ExportState>;
  stop(): void;
}

/** Subscribes to invoiceExportUpdated and records every message. */
export function followExport(client: Client, id: string): Followed {
  const events: ExportState[] = [];
  const waiters: { predicate: (e: ExportState) => boolean; resolve: (e: ExportState) => void }[] = [];
  let stop = () => {};
  const done = new Promise<ExportState[]>((resolve, reject) => {
    stop = client.subscribe<{ invoiceExportUpdated: ExportState }>(
      { query: `subscription($id: ID!) { invoiceExportUpdated(id: $id) { ${EXPORT_FIELDS} } }`, variables: { id } },
      {
        next: (msg) => {
          if (msg.errors?.length) {
            reject(Object.assign(new Error(msg.errors[0].message), { errors: msg.errors }));
            return;
          }
          const state = msg.data!.invoiceExportUpdated;
          events.push(state);
          for (const w of [...waiters]) {
            if (w.predicate(state)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(state);
            }
          }
        },
        error: (err) => reject(err instanceof Error ? err : Object.assign(new Error('subscription error'), { errors: err })),
        complete: () => resolve(events),
      },
    );
  });
  done.catch(() => undefined);
  return {
    events,
    done,
    until(predicate) {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    stop: () => stop(),
  };
}
