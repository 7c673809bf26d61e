import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import type { AppServices } from '../app';
import { AuditAction, AuditTarget, linkActor, recordAudit, type AuditActor } from '../audit/audit';
import { isUuid, returning, type Queryable } from '../db/sql';

/**
 * Download links of the mails (docs/profiles.md): `<PUBLIC_URL>/d/<token>`, valid
 * EXPORT_LINK_DAYS, longer than any presigned URL may live. The token is 32
 * random bytes bound to one export; only its SHA-256 is stored, so a read of
 * the database gives no working link. Each use is recorded, and audited as
 * EXPORT_LINK_USED by `link:<id>` (docs/privacy.md).
 */

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const hashOf = (token: string) => createHash('sha256').update(token).digest();

export async function createLink(
  db: Queryable,
  v: { tenantId: string; exportId: string; recipient: string | null; days: number; now: Date },
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(v.now.getTime() + v.days * 86_400_000);
  const [{ id }] = await db.query(
    `INSERT INTO export_links (tenant_id, export_id, token_hash, recipient, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [v.tenantId, v.exportId, hashOf(token), v.recipient, expiresAt],
  );
  return { id, token, expiresAt };
}

/** Revokes every link to an export of the tenant, audited in the same transaction; false when there is no such export. */
export async function revokeExportLinks(ds: DataSource, who: AuditActor, exportId: string): Promise<boolean> {
  if (!isUuid(exportId)) return false;
  const { tenantId } = who.principal;
  return ds.transaction(async (tx) => {
    const [found] = await tx.query(`SELECT 1 FROM invoice_exports WHERE tenant_id = $1 AND id = $2`, [tenantId, exportId]);
    if (!found) return false;
    const revoked = await returning(tx, `UPDATE export_links SET revoked_at = now() WHERE tenant_id = $1 AND export_id = $2 AND revoked_at IS NULL RETURNING id`, [tenantId, exportId]);
    await recordAudit(tx, who, {
      action: AuditAction.EXPORT_LINK_REVOKED, targetType: AuditTarget.EXPORT, targetId: exportId,
      details: { links: revoked.map((r) => r.id).sort() },
    });
    return true;
  });
}

const page = (title: string, text: string) =>
  `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>${title}</h1><p>${text}</p></body></html>`;

function answer(res: Response, status: number, title: string, text: string): void {
  res.status(status).set('cache-control', 'no-store').type('html').send(page(title, text));
}

/**
 * GET /d/:token → 302 to a fresh presigned URL while the export is
 * COMPLETED and the link neither expired nor revoked; a plain 404 page for
 * an unknown token, 410 for one that no longer works. Never a stack trace.
 */
export function downloadLinkHandler(services: AppServices) {
  return async (req: Request, res: Response): Promise<void> => {
    const token = String(req.params.token ?? '');
    res.set('referrer-policy', 'no-referrer');
    try {
      if (!TOKEN.test(token)) return answer(res, 404, 'Lien inconnu', "Ce lien de téléchargement n'existe pas. Vérifiez qu'il a été copié en entier.");
      const [link] = await services.dataSource.query(
        `SELECT l.id, l.tenant_id AS "tenantId", l.export_id AS "exportId", l.expires_at < now() AS expired, l.revoked_at IS NOT NULL AS revoked,
                e.status, e.file_key AS "fileKey", e.file_name AS "fileName"
         FROM export_links l JOIN invoice_exports e ON e.id = l.export_id AND e.tenant_id = l.tenant_id
         WHERE l.token_hash = $1`,
        [hashOf(token)],
      );
      if (!link) return answer(res, 404, 'Lien inconnu', "Ce lien de téléchargement n'existe pas. Vérifiez qu'il a été copié en entier.");
      const usable = !link.expired && !link.revoked && link.status === 'COMPLETED' && link.fileKey;
      const outcome = usable ? 302 : 410;
      await services.dataSource.transaction(async (tx) => {
        await tx.query(`INSERT INTO export_link_uses (link_id, outcome) VALUES ($1, $2)`, [link.id, outcome]);
        await recordAudit(tx, linkActor(link.tenantId, link.id, req.socket.remoteAddress), {
          action: AuditAction.EXPORT_LINK_USED, targetType: AuditTarget.EXPORT, targetId: link.exportId,
          details: { outcome, ...(usable ? {} : { reason: link.revoked ? 'revoked' : link.expired ? 'expired' : 'file gone' }) },
        });
      });
      if (!usable) {
        const why = link.revoked
          ? 'Ce lien a été désactivé par la structure.'
          : link.expired
            ? 'Ce lien a expiré.'
            : "Le fichier n'est plus disponible (il a été supprimé après sa durée de conservation).";
        return answer(res, 410, 'Lien expiré', `${why} Demandez un nouvel envoi à la structure.`);
      }
      const { url } = await services.storage.presign(link.fileKey, services.config.exportUrlTtlSeconds, link.fileName ?? undefined);
      res.set('cache-control', 'no-store').redirect(302, url);
    } catch (err) {
      services.logger.error({ err }, 'Download link failed');
      answer(res, 503, 'Service indisponible', 'Le téléchargement est momentanément indisponible. Réessayez dans quelques minutes.');
    }
  };
}
