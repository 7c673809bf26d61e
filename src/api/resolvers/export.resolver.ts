import { Arg, Ctx, Field, FieldResolver, Float, ID, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { SubscribeResolverData } from 'type-graphql';
import { ExportError, InvoiceExport } from '../../entities/invoice-export.entity';
import { ExportStatus, FINAL_EXPORT_STATUSES } from '../../entities/enums';
import { AuditAction, AuditTarget, recordAudit } from '../../audit/audit';
import { AppError, ErrorCode, exportError } from '../../errors';
import { isNewer } from '../../exports/events';
import { isUuid } from '../../exports/selection';
import { ApiContext, assertCanExport, canExport } from '../context';
import { PageInfo, checkPageSize, decodeCursor, encodeCursor } from './types/connection';
import { RequestInvoiceExportInput } from './types/export.input';

const CURSOR_TAG = 'exp';

/** A request refused for rate (RATE_LIMITED) is recorded; nothing was written, so on its own. */
async function auditRefusal(ctx: ApiContext, input: RequestInvoiceExportInput, err: unknown): Promise<void> {
  if (!(err instanceof AppError) || err.code !== ErrorCode.RATE_LIMITED) return;
  await recordAudit(ctx.services.dataSource, ctx.audit, {
    action: AuditAction.EXPORT_REFUSED, targetType: AuditTarget.EXPORT,
    details: { code: err.code, reason: err.message, kind: input.kind, format: input.format ?? null, retryAfterSeconds: err.details?.retryAfterSeconds ?? null },
  }).catch((e) => ctx.logger.warn({ err: e }, 'Could not record a refused export in the audit trail'));
}
const MAX_EXPORT_PAGE = 100;

@ObjectType()
class InvoiceExportEdge {
  @Field()
  cursor: string;

  @Field(() => InvoiceExport)
  node: InvoiceExport;
}

@ObjectType()
class InvoiceExportConnection {
  @Field(() => [InvoiceExportEdge])
  edges: InvoiceExportEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  count: () => Promise<number>;

  @Field(() => Int, { description: 'Exports matching the statuses, all pages together' })
  totalCount(): Promise<number> {
    return this.count();
  }
}

/**
 * One presigned URL per export and operation, shared by downloadUrl and
 * downloadUrlExpiresAt. Downloading is exporting (docs/api.md): a VIEWER sees
 * the tenant's exports and their states, never a URL to the file.
 */
const links = new WeakMap<InvoiceExport, Promise<{ url: string; expiresAt: Date } | null>>();
function link(e: InvoiceExport, ctx: ApiContext) {
  if (!canExport(ctx.principal)) return Promise.resolve(null);
  let p = links.get(e);
  if (!p) {
    p = ctx.services.exports.downloadLink(e);
    links.set(e, p);
  }
  return p;
}

/** Without any event for this long, a subscription re-reads the export itself. */
export const RECHECK_MS = 2000;
const QUIET = Symbol('quiet');
const STOPPED = Symbol('stopped');

/** The queue position computed for a state the subscription sends (so the field resolver need not read it again). */
const positions = new WeakMap<InvoiceExport, number | null>();
function queuePositionOf(e: InvoiceExport, ctx: ApiContext): Promise<number | null> {
  return positions.has(e) ? Promise.resolve(positions.get(e)!) : ctx.services.exports.queuePosition(e);
}

/**
 * Current state first, then every newer state published by the workers;
 * ends after a final status. The tenant is checked before anything is sent:
 * another tenant's id fails the subscription with NOT_FOUND.
 *
 * Pub/sub delivers at most once: an event published before Redis confirmed
 * this subscription, or during a Redis outage, is gone. So a subscription
 * that hears nothing for RECHECK_MS reads the row again, and a missed final
 * state still reaches the client instead of leaving it waiting forever.
 */
async function followExport({ args, context }: SubscribeResolverData<unknown, { id: string }, ApiContext>): Promise<AsyncIterable<InvoiceExport>> {
  const { exports, events } = context.services;
  const tenantId = context.principal.tenantId;
  // Listen before reading (next() starts the listener), so that a change
  // after the read is not lost.
  const changes = events.subscribe(args.id);
  let pending = changes.next();
  let first: InvoiceExport;
  try {
    first = await exports.getOrFail(tenantId, args.id);
  } catch (err) {
    pending.catch(() => undefined);
    await changes.return?.();
    throw err;
  }
  // An async generator suspended on an await cannot be returned: when the
  // client goes away (socket closed, token expired), return() would wait for
  // the next state, and the generator would keep re-reading the row every
  // RECHECK_MS until then. `stopped` wakes it up instead.
  let stop: () => void = () => undefined;
  const stopped = new Promise<typeof STOPPED>((resolve) => {
    stop = () => resolve(STOPPED);
  });
  async function* stream(): AsyncGenerator<InvoiceExport> {
    let timer: NodeJS.Timeout | undefined;
    try {
      let last = first;
      let lastPosition = await exports.queuePosition(first);
      positions.set(first, lastPosition);
      yield last;
      while (!FINAL_EXPORT_STATUSES.includes(last.status)) {
        const quiet = new Promise<typeof QUIET>((resolve) => {
          timer = setTimeout(() => resolve(QUIET), RECHECK_MS);
        });
        const got = await Promise.race([pending, quiet, stopped]);
        clearTimeout(timer);
        if (got === STOPPED) return;
        let next: InvoiceExport | null;
        if (got === QUIET) {
          next = await exports.get(tenantId, args.id);
        } else {
          if (got.done) return;
          pending = changes.next();
          next = got.value;
        }
        if (!next || next.tenantId !== tenantId) continue;
        // A waiting export moves up as its tenant's others start: that is news too.
        const position = await exports.queuePosition(next);
        if (!isNewer(next, last) && position === lastPosition) continue;
        positions.set(next, position);
        last = next;
        lastPosition = position;
        yield next;
      }
    } finally {
      clearTimeout(timer);
      pending.catch(() => undefined);
      await changes.return?.();
    }
  }
  const gen = stream();
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => gen.next(),
      return: (value?: unknown) => {
        stop();
        return gen.return(value as InvoiceExport);
      },
      throw: (err?: unknown) => {
        stop();
        return gen.throw(err);
      },
    }),
  };
}

@Resolver(() => InvoiceExport)
export class ExportResolver {
  @Query(() => InvoiceExport, { nullable: true, description: "null when the id is unknown or another tenant's" })
  invoiceExport(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string): Promise<InvoiceExport | null> {
    return ctx.services.exports.get(ctx.principal.tenantId, id);
  }

  @Query(() => InvoiceExportConnection, { description: 'Newest first' })
  async invoiceExports(
    @Ctx() ctx: ApiContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('statuses', () => [ExportStatus], { nullable: true }) statuses: ExportStatus[] | null,
  ): Promise<InvoiceExportConnection> {
    const size = first ?? 20;
    checkPageSize(size, MAX_EXPORT_PAGE);
    const afterId = after ? decodeCursor(CURSOR_TAG, after, (v): v is string => typeof v === 'string' && isUuid(v)) : null;
    const page = await ctx.services.exports.list(ctx.principal.tenantId, size, afterId, statuses);
    const edges = page.exports.map((node) => ({ node, cursor: encodeCursor(CURSOR_TAG, node.id) }));
    const connection = new InvoiceExportConnection();
    connection.edges = edges;
    connection.pageInfo = { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null };
    connection.count = () => ctx.services.exports.count(ctx.principal.tenantId, statuses);
    return connection;
  }

  @Mutation(() => InvoiceExport, { description: 'Records the export and enqueues it; follow it with invoiceExportUpdated' })
  async requestInvoiceExport(@Ctx() ctx: ApiContext, @Arg('input', () => RequestInvoiceExportInput) input: RequestInvoiceExportInput): Promise<InvoiceExport> {
    assertCanExport(ctx.principal);
    try {
      return await ctx.services.exports.request(ctx.principal, input, ctx.audit);
    } catch (err) {
      await auditRefusal(ctx, input, err);
      throw err;
    }
  }

  @Mutation(() => InvoiceExport)
  cancelInvoiceExport(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string): Promise<InvoiceExport> {
    assertCanExport(ctx.principal);
    return ctx.services.exports.cancel(ctx.principal.tenantId, id, ctx.audit);
  }

  @Subscription(() => InvoiceExport, {
    description: 'First message: the current state; then every change; completes after a final status',
    subscribe: followExport,
  })
  invoiceExportUpdated(@Root() e: InvoiceExport, @Arg('id', () => ID) _id: string): InvoiceExport {
    return e;
  }

  @FieldResolver(() => Float, { description: '0..1' })
  progress(@Root() e: InvoiceExport): number {
    if (e.status === ExportStatus.COMPLETED || e.status === ExportStatus.EXPIRED) return 1;
    if (!e.totalRows) return 0;
    return Math.min(1, e.processedRows / e.totalRows);
  }

  @FieldResolver(() => String, { nullable: true, description: 'Signed, fresh at each read, only when COMPLETED' })
  async downloadUrl(@Root() e: InvoiceExport, @Ctx() ctx: ApiContext): Promise<string | null> {
    const issued = await link(e, ctx);
    if (!issued) return null;
    // No record, no URL: whoever reads the file must show in the trail.
    await recordAudit(ctx.services.dataSource, ctx.audit, {
      action: AuditAction.DOWNLOAD_URL_ISSUED, targetType: AuditTarget.EXPORT, targetId: e.id,
      details: { kind: e.kind, format: e.format, expiresAt: issued.expiresAt.toISOString() },
    });
    return issued.url;
  }

  @FieldResolver(() => Date, { nullable: true })
  async downloadUrlExpiresAt(@Root() e: InvoiceExport, @Ctx() ctx: ApiContext): Promise<Date | null> {
    return (await link(e, ctx))?.expiresAt ?? null;
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description: "While QUEUED: 1 + how many of its organisation's exports start before it (\"2 exports ahead of yours\" at 3); null otherwise",
  })
  queuePosition(@Root() e: InvoiceExport, @Ctx() ctx: ApiContext): Promise<number | null> {
    return queuePositionOf(e, ctx);
  }

  @FieldResolver(() => ExportError, { nullable: true })
  error(@Root() e: InvoiceExport): ExportError | null {
    return exportError(e.errorCode, e.errorMessage);
  }
}
