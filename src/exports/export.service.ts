import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Principal } from '../auth/jwt';
import { AuditAction, AuditActor, AuditTarget, recordAudit } from '../audit/audit';
import { selectionSummary } from '../audit/details';
import { InvoiceExport } from '../entities/invoice-export.entity';
import { ExportFormat, ExportKind, ExportStatus, FINAL_EXPORT_STATUSES } from '../entities/enums';
import { badInput, notFound } from '../errors';
import { RateLimiter, admitExport } from './admission';
import type { Dispatcher } from './dispatcher';
import { waitingOrder } from './dispatcher';
import type { AccountingCheckResult } from './kinds/accounting-check';
import { exportKind, resolveExportFormat } from './kinds';
import { accountingExportCheck } from './kinds/accounting-entries';
import type { ExportLifecycle } from './lifecycle';
import { SUPPORTED_LOCALES } from './labels';
import type { ExportQueues } from './queue';
import { InvoiceFilterSpec, SqlParams, StoredSelection, invoiceConditions, isUuid, validateFilter } from './selection';
import type { ExportStorage } from '../storage';
import { currentTraceparent } from '../telemetry/tracing';
import { layoutOfRequest, type LayoutRequest } from '../profiles/request-layout';
import { ProfileService } from '../profiles/profile.service';

export interface ExportRequest extends LayoutRequest {
  kind: ExportKind;
  format?: ExportFormat | null;
  locale?: string | null;
  idempotencyKey?: string | null;
  selection: {
    invoiceIds?: string[] | null;
    filter?: InvoiceFilterSpec | null;
    excludedInvoiceIds?: string[] | null;
  };
}

/** Rows a document gives in each kind, on average: the expected size that orders the queue. */
const ROWS_PER_DOCUMENT: Record<ExportKind, number> = {
  [ExportKind.INVOICES]: 1,
  [ExportKind.INVOICE_LINES]: 4,
  // A receivable line, ~3.6 revenue lines and a VAT line now and then.
  [ExportKind.ACCOUNTING_ENTRIES]: 5,
};

export interface ExportPage {
  exports: InvoiceExport[];
  hasNextPage: boolean;
}

/** Export ids and other uuids as the user gave them: a few examples, never a wall. */
function examples(values: string[]): string {
  const shown = values.slice(0, 3).map((v) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v));
  return shown.join(', ') + (values.length > 3 ? ', …' : '');
}

function checkIds(ids: string[], field: string, max: number): string[] {
  if (ids.length > max) throw badInput(`${field} may hold at most ${max} ids (got ${ids.length})`, { maxIds: max });
  const malformed = ids.filter((id) => !isUuid(id));
  if (malformed.length) {
    throw badInput(`${field} has ${malformed.length} malformed id(s): ${examples(malformed)}`, { malformedCount: malformed.length });
  }
  return [...new Set(ids.map((id) => id.toLowerCase()))];
}

/**
 * The export domain as the API sees it: request, read, list, cancel. Every
 * query is scoped by the caller's tenant; an id of another tenant is simply
 * not found.
 */
export class ExportService {
  private readonly profiles: ProfileService;

  constructor(
    private readonly ds: DataSource,
    private readonly queues: ExportQueues,
    private readonly lifecycle: ExportLifecycle,
    private readonly storage: ExportStorage,
    private readonly config: Readonly<Config>,
    private readonly logger: Logger,
    private readonly dispatcher: Dispatcher,
    private readonly rateLimiter: RateLimiter,
  ) {
    this.profiles = new ProfileService(ds);
  }

  /**
   * Validates everything first; only then records the export, within its
   * tenant's cap of active exports. Recording is what accepts it: PostgreSQL
   * is the outbox, and the dispatcher puts it on the queue (at once when
   * Redis is up and the tenant has a free slot; later otherwise).
   */
  async request(principal: Principal, req: ExportRequest, who: AuditActor): Promise<InvoiceExport> {
    const { tenantId } = principal;
    // KINDS: the default format is the kind's (XLSX; the accountant's software for ACCOUNTING_ENTRIES); FEC and the importer layouts only for ACCOUNTING_ENTRIES.
    // PROFILES: a profile's format, locale and layout apply; an inline column choice or CSV layout is checked here.
    const kindDefault = req.format || req.profileId ? undefined : await exportKind(req.kind).tenantDefaultFormat?.(this.ds, tenantId);
    const { format, locale, layout } = await layoutOfRequest(this.profiles, tenantId, { ...req, format: req.format ?? kindDefault });
    if (!(SUPPORTED_LOCALES as readonly string[]).includes(locale)) {
      throw badInput(`locale must be one of ${SUPPORTED_LOCALES.join(', ')} (got "${locale}")`);
    }
    const key = req.idempotencyKey?.trim() || null;
    if (key && key.length > 200) throw badInput('idempotencyKey is too long (at most 200 characters)');
    const repo = this.ds.getRepository(InvoiceExport);
    if (key) {
      // A re-send is never refused, not even by the limits below.
      const existing = await repo.findOneBy({ tenantId, idempotencyKey: key });
      if (existing) return existing;
    }
    await this.rateLimiter.check(tenantId, principal.userId);

    // Read-only so far: a connection PostgreSQL dropped (restart, pg_terminate_backend) is worth one more try.
    const { selection, documents } = await onceMoreIfDisconnected(() => this.resolveSelection(tenantId, req.selection));
    // KINDS: a kind's own checks (ACCOUNTING_ENTRIES: every VAT rate has an account), before anything is written.
    await exportKind(req.kind).validateRequest?.(this.ds, tenantId, selection, format);
    const expectedRows = documents * (ROWS_PER_DOCUMENT[req.kind] ?? 1);
    const id = await admitExport(this.ds.manager, tenantId, this.config, async (tx) => {
      const recorded = await this.lifecycle.record(tx, {
        tenantId,
        requestedBy: principal.userId,
        kind: req.kind,
        format,
        locale,
        selection,
        idempotencyKey: key,
        expectedRows,
        queuePrefix: this.config.queuePrefix,
        traceParent: currentTraceparent(),
        options: layout,
      });
      if (recorded) {
        await recordAudit(tx, who, {
          action: AuditAction.EXPORT_REQUESTED, targetType: AuditTarget.EXPORT, targetId: recorded,
          details: { kind: req.kind, format, locale, expectedRows, selection: selectionSummary(selection, documents) },
        });
      }
      return recorded;
    });
    if (!id) {
      // A concurrent request with the same key won the race.
      return repo.findOneByOrFail({ tenantId, idempotencyKey: key! });
    }
    this.logger.info({ exportId: id, tenantId, kind: req.kind, format, expectedRows }, 'Export requested');
    // Enqueued now if it may run (the answer then says QUEUED with no waiting reason).
    await this.dispatcher.pass(tenantId).catch((err) => this.logger.warn({ err, exportId: id }, 'Dispatch after request failed'));
    return (await this.lifecycle.publishCurrent(id)) ?? repo.findOneByOrFail({ id });
  }

  /** The pre-flight check of an accounting export (docs/accounting.md): the same selection rules as a request, nothing written. */
  async checkAccounting(principal: Principal, sel: ExportRequest['selection'], format: ExportFormat): Promise<AccountingCheckResult> {
    resolveExportFormat(ExportKind.ACCOUNTING_ENTRIES, format);
    const { selection } = await this.resolveSelection(principal.tenantId, sel);
    return accountingExportCheck(this.ds, principal.tenantId, selection, format);
  }

  /**
   * Place of a QUEUED export among its tenant's waiting ones, in the order
   * they start (those already on the queue first): 1 = next; null unless QUEUED.
   */
  async queuePosition(e: InvoiceExport): Promise<number | null> {
    if (e.status !== ExportStatus.QUEUED) return null;
    const [{ ahead }] = await this.ds.query(
      `WITH ordered AS (
         SELECT id, row_number() OVER (ORDER BY (enqueued_at IS NULL), ${waitingOrder('$3')}) AS pos
         FROM invoice_exports WHERE tenant_id = $1 AND status = 'QUEUED'
       )
       SELECT coalesce((SELECT pos FROM ordered WHERE id = $2), 1)::int AS ahead`,
      [e.tenantId, e.id, this.config.exportPriorityAgingSeconds],
    );
    return ahead;
  }

  private async resolveSelection(tenantId: string, sel: ExportRequest['selection']): Promise<{ selection: StoredSelection; documents: number }> {
    const hasIds = sel.invoiceIds !== undefined && sel.invoiceIds !== null;
    const hasFilter = sel.filter !== undefined && sel.filter !== null;
    if (hasIds === hasFilter) {
      throw badInput('selection must have exactly one of invoiceIds (ticked rows) or filter ("Tous les résultats")');
    }
    const max = this.config.exportMaxIds;
    if (hasIds) {
      if (sel.excludedInvoiceIds?.length) throw badInput('selection.excludedInvoiceIds goes with a filter, not with invoiceIds');
      const ids = checkIds(sel.invoiceIds!, 'selection.invoiceIds', max);
      if (!ids.length) throw badInput('The selection is empty: tick at least one invoice');
      const [{ n }] = await this.ds.query('SELECT count(*) AS n FROM invoices WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [tenantId, ids]);
      const missing = ids.length - Number(n);
      if (missing > 0) {
        throw badInput(`${missing} of the ${ids.length} selected invoices do not exist`, { missingCount: missing });
      }
      return { selection: { mode: 'ids', invoiceIds: ids }, documents: ids.length };
    }
    validateFilter(sel.filter, 'selection.filter');
    const excluded = checkIds(sel.excludedInvoiceIds ?? [], 'selection.excludedInvoiceIds', max);
    const params = new SqlParams();
    const where = invoiceConditions(params, tenantId, sel.filter);
    if (excluded.length) where.push(`NOT (i.id = ANY(${params.add(excluded)}::uuid[]))`);
    const [{ n }] = await this.ds.query(`SELECT count(*) AS n FROM invoices i WHERE ${where.join(' AND ')}`, params.values);
    if (Number(n) === 0) throw badInput('The selection is empty: the filter matches no invoice');
    return { selection: { mode: 'filter', filter: stripEmpty(sel.filter!), excludedInvoiceIds: excluded, createdBefore: '' }, documents: Number(n) };
  }

  async get(tenantId: string, id: string): Promise<InvoiceExport | null> {
    if (!isUuid(id)) return null;
    return this.ds.getRepository(InvoiceExport).findOneBy({ tenantId, id });
  }

  async getOrFail(tenantId: string, id: string): Promise<InvoiceExport> {
    const found = await this.get(tenantId, id);
    if (!found) throw notFound(`No export with id "${id}"`);
    return found;
  }

  /** Newest first; keyset on (created_at, id) through the cursor's export. */
  async list(tenantId: string, first: number, afterId: string | null, statuses: ExportStatus[] | null): Promise<ExportPage> {
    const qb = this.ds
      .getRepository(InvoiceExport)
      .createQueryBuilder('e')
      .where('e.tenant_id = :tenantId', { tenantId })
      .orderBy('e.created_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .take(first + 1);
    if (statuses?.length) qb.andWhere('e.status IN (:...statuses)', { statuses });
    if (afterId) {
      qb.andWhere(
        '(e.created_at, e.id) < (SELECT c.created_at, c.id FROM invoice_exports c WHERE c.tenant_id = :tenantId AND c.id = :afterId)',
        { afterId },
      );
    }
    const rows = await qb.getMany();
    return { exports: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  async count(tenantId: string, statuses: ExportStatus[] | null): Promise<number> {
    const qb = this.ds.getRepository(InvoiceExport).createQueryBuilder('e').where('e.tenant_id = :tenantId', { tenantId });
    if (statuses?.length) qb.andWhere('e.status IN (:...statuses)', { statuses });
    return qb.getCount();
  }

  /**
   * QUEUED: the job leaves the queue. RUNNING: the worker sees the status at
   * its next progress tick (≤ 250 ms), aborts its upload and stops.
   */
  async cancel(tenantId: string, id: string, who: AuditActor): Promise<InvoiceExport> {
    const current = await this.getOrFail(tenantId, id);
    if (current.status === ExportStatus.CANCELLED) return current;
    if (FINAL_EXPORT_STATUSES.includes(current.status)) {
      throw badInput(`The export is already ${current.status} and can no longer be cancelled`);
    }
    const cancelled = await this.lifecycle.cancel(tenantId, id, (tx) =>
      recordAudit(tx, who, { action: AuditAction.EXPORT_CANCELLED, targetType: AuditTarget.EXPORT, targetId: id, details: { kind: current.kind, was: current.status } }),
    );
    const after = await this.getOrFail(tenantId, id);
    if (!cancelled) {
      // It finished in between: say what it became.
      if (after.status === ExportStatus.CANCELLED) return after;
      throw badInput(`The export is already ${after.status} and can no longer be cancelled`);
    }
    try {
      const job = await this.queues.getJob(id);
      // An active job is locked by its worker and cannot be removed; that worker stops by itself.
      if (job && !(await job.isActive())) await job.remove();
    } catch (err) {
      this.logger.warn({ err, exportId: id }, 'Could not remove the cancelled job from the queue');
    }
    this.logger.info({ exportId: id, tenantId }, 'Export cancelled');
    // Its place may go to the tenant's next export.
    void this.dispatcher.kick();
    return after;
  }

  /** A fresh presigned URL, only for a completed export whose file is there. */
  async downloadLink(e: InvoiceExport): Promise<{ url: string; expiresAt: Date } | null> {
    if (e.status !== ExportStatus.COMPLETED || !e.fileKey) return null;
    return this.storage.presign(e.fileKey, this.config.exportUrlTtlSeconds, e.fileName ?? undefined);
  }
}

/** PostgreSQL closed the connection (57P01 admin shutdown, 08xxx connection errors): not the query's fault. */
function isDisconnect(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return /^(57P0[1-3]|08)/.test(e?.code ?? '') || /Connection terminated|connection error/i.test(e?.message ?? '');
}

async function onceMoreIfDisconnected<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!isDisconnect(err)) throw err;
    return fn();
  }
}

function stripEmpty(filter: InvoiceFilterSpec): InvoiceFilterSpec {
  return Object.fromEntries(
    Object.entries(filter).filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0) && v !== ''),
  ) as InvoiceFilterSpec;
}
