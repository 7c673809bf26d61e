import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from '@graphql-yoga/subscription';
import type IORedis from 'ioredis';
import { InvoiceExport } from '../entities/invoice-export.entity';
import { ExportStatus } from '../entities/enums';

/**
 * Export state travels through Redis pub/sub, so that an event published by
 * any worker reaches the subscriptions of every API instance.
 */
/** Instants of an export row, which travel as ISO strings. */
const DATE_FIELDS = ['createdAt', 'startedAt', 'completedAt', 'expiresAt', 'notBefore', 'leaseExpiresAt', 'enqueuedAt', 'filesCleanedAt'] as const;
type DateField = (typeof DATE_FIELDS)[number];

export type ExportSnapshot = Omit<InvoiceExport, 'selection' | 'leaseToken' | DateField> & { [K in DateField]: string | null };

export function toSnapshot(e: InvoiceExport): ExportSnapshot {
  // The lease token stays in PostgreSQL: nothing outside the attempt needs it.
  const { selection: _selection, leaseToken: _lease, ...rest } = e;
  const snapshot = { ...rest } as Record<string, unknown>;
  for (const f of DATE_FIELDS) snapshot[f] = e[f] ? new Date(e[f]!).toISOString() : null;
  return snapshot as ExportSnapshot;
}

export function fromSnapshot(s: ExportSnapshot): InvoiceExport {
  const e = Object.assign(new InvoiceExport(), s) as InvoiceExport;
  for (const f of DATE_FIELDS) (e as unknown as Record<string, Date | null>)[f] = s[f] ? new Date(s[f]!) : null;
  return e;
}

const STATUS_RANK: Record<ExportStatus, number> = {
  [ExportStatus.QUEUED]: 0,
  [ExportStatus.RUNNING]: 1,
  [ExportStatus.COMPLETED]: 2,
  [ExportStatus.FAILED]: 2,
  [ExportStatus.CANCELLED]: 2,
  [ExportStatus.EXPIRED]: 3,
};

/**
 * Order of an export's states, used to drop an event that is older than what
 * a subscriber already has (an event can cross the first read of the row).
 */
/** QUEUED again after an attempt (waiting to retry or to be taken over) comes after that attempt's RUNNING. */
function rank(e: InvoiceExport | ExportSnapshot): number {
  return e.status === ExportStatus.QUEUED && e.attempts > 0 ? 1.5 : STATUS_RANK[e.status];
}

export function isNewer(next: InvoiceExport | ExportSnapshot, last: InvoiceExport | ExportSnapshot): boolean {
  if (next.attempts !== last.attempts) return next.attempts > last.attempts;
  if (rank(next) !== rank(last)) return rank(next) > rank(last);
  if (next.processedRows !== last.processedRows) return next.processedRows > last.processedRows;
  // Same phase: a change of what it waits for (its tenant's turn, Redis back) is news.
  return (next.waitingReason ?? null) !== (last.waitingReason ?? null);
}

export interface ExportEvents {
  publish(e: InvoiceExport): Promise<void>;
  /** Every state published for this export from now on. */
  subscribe(exportId: string): AsyncIterableIterator<InvoiceExport>;
}

export function createExportEvents(publishClient: IORedis, subscribeClient: IORedis, prefix: string): ExportEvents {
  const topic = `${prefix}:export-updated`;
  const pubSub = createPubSub<Record<string, [string, ExportSnapshot]>>({
    eventTarget: createRedisEventTarget({ publishClient, subscribeClient }),
  });
  return {
    async publish(e) {
      pubSub.publish(topic, e.id, toSnapshot(e));
    },
    subscribe(exportId) {
      const source = pubSub.subscribe(topic, exportId);
      const iterator: AsyncIterableIterator<InvoiceExport> = {
        async next() {
          const r = await source.next();
          return r.done ? { done: true, value: undefined } : { done: false, value: fromSnapshot(r.value) };
        },
        async return() {
          await source.return?.();
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
  };
}
