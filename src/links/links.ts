import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { AppServices } from '../app';
import { returning } from '../db/sql';
import { isUuid } from '../exports/selection';

/**
 * Download links of the mails (DESIGN §17): `<PUBLIC_URL>/d/<token>`, valid
 * EXPORT_LINK_DAYS, longer than any presigned URL may live. The token is 32
 * random bytes bound to one export; only its SHA-256 is stored, so a read of
 * the database gives no working link. Each use is recorded.
 */

const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const hashOf = (token: string) => createHash('sha256').update(token).digest();

interface Queries {
  query(sql: string, params?: unknown[]): Promise<any>;
}

export async function createLink(
  db: Queries,
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

/** Revokes every link to an export of the tenant; false when there is no such export. */
export async function revokeExportLinks(db: Queries, tenantId: string, exportId: string): Promise<boolean> {
  if (!isUuid(exportId)) return false;
  const [found] = await db.query(`SELECT 1 FROM invoice_exports WHERE tenant_id = $1 AND id = $2`, [tenantId, exportId]);
  if (!found) return false;
  await returning(db, `UPDATE export_links SET revoked_at = now() WHERE tenant_id = $1 AND export_id = $2 AND revoked_at IS NULL RETURNING id`, [tenantId, exportId]);
  // TODO(audit, DESIGN §18): record "download links revoked" once src/audit is on main.
  return true;
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
        `SELECT l.id, l.expires_at < now() AS expired, l.revoked_at IS NOT NULL AS revoked,
                e.status, e.file_key AS "fileKey", e.file_name AS "fileName"
         FROM export_links l JOIN invoice_exports e ON e.id = l.export_id AND e.tenant_id = l.tenant_id
         WHERE l.token_hash = $1`,
        [hashOf(token)],
      );
      if (!link) return answer(res, 404, 'Lien inconnu', "Ce lien de téléchargement n'existe pas. Vérifiez qu'il a été copié en entier.");
      const usable = !link.expired && !link.revoked && link.status === 'COMPLETED' && link.fileKey;
      await services.dataSource.query(`INSERT INTO export_link_uses (link_id, outcome) VALUES ($1, $2)`, [link.id, usable ? 302 : 410]);
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
