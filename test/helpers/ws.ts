import type { Client } from 'graphql-ws';
import { EXPORT_FIELDS, ExportState, exportWsClient, followExport as follow } from '../../dev/client/export-client';

export { EXPORT_FIELDS, type ExportState };

/** A graphql-ws client for the API at `wsUrl` (ws://…/graphql). */
export function wsClient(wsUrl: string, token: string): Client {
  return exportWsClient(wsUrl.replace(/^ws/, 'http'), token);
}

export interface Followed {
  events: ExportState[];
  /** Resolves with every state received once the server completes the subscription. */
  done: Promise<ExportState[]>;
  /** Resolves at the first state matching `predicate`. */
  until(predicate: (e: ExportState) => boolean): Promise<ExportState>;
}

/** Subscribes to invoiceExportUpdated and records every message. */
export function followExport(client: Client, id: string): Followed {
  const events: ExportState[] = [];
  const waiters: { predicate: (e: ExportState) => boolean; resolve: (e: ExportState) => void }[] = [];
  const done = follow(client, id, (state) => {
    events.push(state);
    for (const w of [...waiters]) {
      if (w.predicate(state)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(state);
      }
    }
  }).then(() => events);
  done.catch(() => undefined);
  return {
    events,
    done,
    until(predicate) {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
}
