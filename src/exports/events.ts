import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from '@graphql-yoga/subscription';
import type IORedis from 'ioredis';
import { InvoiceExport } from '../entities/invoice-export.entity';
import { ExportStatus } from '../entities/enums';

/**
 * Export state travels through Redis pub/sub, so that an event published by
 * any worker reaches the subscriptions of every API instance.
 */
export type ExportSnapshot = Omit<InvoiceExport, 'selection' | 'createdAt' | 'startedAt' | 'completedAt' | 'expiresAt'> & {
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  expiresAt: string | null;
};

export function toSnapshot(e: InvoiceExport): ExportSnapshot {
  const { selection: _selection, ...rest } = e;
  const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);
  return {
    ...rest,
    createdAt: iso(e.createdAt)!,
    startedAt: iso(e.startedAt),
    completedAt: iso(e.completedAt),
    expiresAt: iso(e.expiresAt),
  };
}

export function fromSnapshot(s: ExportSnapshot): InvoiceExport {
  const e = Object.assign(new InvoiceExport(), s) as InvoiceExport;
  e.createdAt = new Date(s.createdAt);
  e.startedAt = s.startedAt ? new Date(s.startedAt) : null;
  e.completedAt = s.completedAt ? new Date(s.completedAt) : null;
  e.expiresAt = s.expiresAt ? new Date(s.expiresAt) : null;
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
export function isNewer(next: InvoiceExport | ExportSnapshot, last: InvoiceExport | ExportSnapshot): boolean {
  if (next.attempts !== last.attempts) return next.attempts > last.attempts;
  if (STATUS_RANK[next.status] !== STATUS_RANK[last.status]) return STATUS_RANK[next.status] > STATUS_RANK[last.status];
  return next.processedRows > last.processedRows;
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
