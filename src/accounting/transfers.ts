import type { DataSource } from 'typeorm';
import { AuditAction, AuditActor, AuditTarget, recordAudit } from '../audit/audit';
import { isUuid, returning } from '../db/sql';
import { ExportKind, ExportStatus } from '../entities/enums';
import { InvoiceExport } from '../entities/invoice-export.entity';
import { badInput, notFound } from '../errors';

/**
 * Transfer to accounting (docs/accounting.md): a completed ACCOUNTING_ENTRIES export
 * marks its documents in `accounting_transfers` (exports/kinds/accounting-entries.ts,
 * in the transaction that completes it); here, reading and removing marks.
 */

/** Latest transfer instant per invoice (null when never transferred), in the order of `invoiceIds`. */
export async function latestTransfers(ds: DataSource, tenantId: string, invoiceIds: readonly string[]): Promise<(Date | null)[]> {
  const rows: { invoiceId: string; at: Date }[] = await ds.query(
    `SELECT invoice_id AS "invoiceId", max(transferred_at) AS at FROM accounting_transfers
     WHERE tenant_id = $1 AND invoice_id = ANY($2::uuid[]) GROUP BY invoice_id`,
    [tenantId, [...invoiceIds]],
  );
  const byId = new Map(rows.map((r) => [r.invoiceId, r.at]));
  return invoiceIds.map((id) => byId.get(id) ?? null);
}

/** Removes the marks of one export of the tenant (its import failed); returns the export. */
export async function revertAccountingTransfer(ds: DataSource, tenantId: string, exportId: string, who: AuditActor): Promise<{ export: InvoiceExport; removed: number }> {
  const exp = isUuid(exportId) ? await ds.getRepository(InvoiceExport).findOneBy({ tenantId, id: exportId }) : null;
  if (!exp) throw notFound(`No export with id "${exportId}"`);
  if (exp.kind !== ExportKind.ACCOUNTING_ENTRIES) {
    throw badInput(`The export ${exportId} is an ${exp.kind} export: only ACCOUNTING_ENTRIES exports transfer documents to accounting`);
  }
  if (exp.status !== ExportStatus.COMPLETED && exp.status !== ExportStatus.EXPIRED) {
    throw badInput(`The export ${exportId} is ${exp.status}: it transferred nothing`);
  }
  const removed = await ds.transaction(async (tx) => {
    const rows = await returning(tx, `DELETE FROM accounting_transfers WHERE tenant_id = $1 AND export_id = $2 RETURNING invoice_id`, [tenantId, exportId]);
    await recordAudit(tx, who, { action: AuditAction.TRANSFER_REVERTED, targetType: AuditTarget.EXPORT, targetId: exportId, details: { documents: rows.length } });
    return rows;
  });
  return { export: exp, removed: removed.length };
}
