import { useEffect, useState } from 'preact/hooks';
import { toApiError, type Api } from './api';
import { formatDateTime } from './format';
import { AuditEventsQuery, type AuditActionName, type AuditEventItem } from './graphql';

const PAGE = 50;

/** Every action of the audit trail, in French; one entry per action of schema.graphql (the type check insists). */
export const AUDIT_ACTION_LABELS: Record<AuditActionName, string> = {
  EXPORT_REQUESTED: 'Export demandé',
  EXPORT_REFUSED: 'Export refusé (limite atteinte)',
  EXPORT_CANCELLED: 'Export annulé',
  DOWNLOAD_URL_ISSUED: 'Lien de téléchargement délivré',
  TRANSFER_REVERTED: 'Transfert en comptabilité annulé',
  ACCOUNTING_SETTINGS_CHANGED: 'Paramètres comptables modifiés',
  EXPORT_PROFILE_CREATED: "Profil d'export créé",
  EXPORT_PROFILE_CHANGED: "Profil d'export modifié",
  EXPORT_PROFILE_DELETED: "Profil d'export supprimé",
  EXPORT_SCHEDULE_CREATED: 'Envoi programmé créé',
  EXPORT_SCHEDULE_CHANGED: 'Envoi programmé modifié',
  EXPORT_SCHEDULE_DELETED: 'Envoi programmé supprimé',
  EXPORT_LINK_USED: 'Lien envoyé par e-mail utilisé',
  EXPORT_LINK_REVOKED: 'Liens envoyés par e-mail désactivés',
};

const TARGET_LABELS: Record<string, string> = {
  EXPORT: 'Export',
  ACCOUNTING_SETTINGS: 'Paramètres comptables',
  EXPORT_PROFILE: "Profil d'export",
  EXPORT_SCHEDULE: 'Envoi programmé',
};

/** A user's id as is; a use of an e-mailed link (`link:<id>`, docs/privacy.md) said in words. */
export function actorLabel(actor: string): string {
  return actor.startsWith('link:') ? `Lien e-mail ${actor.slice(5, 13)}…` : actor;
}

/** Whether the caller may read the audit trail: the service says (FORBIDDEN otherwise), whatever the token's claim names. */
export function useCanAudit(api: Api): boolean {
  const [can, setCan] = useState(false);
  useEffect(() => {
    api.query(AuditEventsQuery, { first: 1 }).then(() => setCan(true), () => setCan(false));
  }, [api]);
  return can;
}

/** "Journal d'audit": who requested, downloaded or changed what, newest first (ADMIN). */
export function AuditLog({ api }: { api: Api }) {
  const [action, setAction] = useState<AuditActionName | ''>('');
  const [actor, setActor] = useState('');
  const [events, setEvents] = useState<AuditEventItem[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const load = async (after: string | null) => {
    setLoading(true);
    setError(null);
    try {
      const filter = { ...(action ? { actions: [action] } : {}), ...(actor.trim() ? { actor: actor.trim() } : {}) };
      const d = await api.query(AuditEventsQuery, { filter, first: PAGE, after });
      const page = d.auditEvents.edges.map((e) => e.node);
      setEvents((list) => (after ? [...list, ...page] : page));
      setNext(d.auditEvents.pageInfo.hasNextPage ? d.auditEvents.pageInfo.endCursor : null);
    } catch (err) {
      setError(toApiError(err).message);
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    void load(null);
  }, [action]);

  return (
    <section class="audit" aria-labelledby="audit-title">
      <h2 id="audit-title">Journal d'audit</h2>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); void load(null); }}>
        <div class="field">
          <label for="audit-action">Action</label>
          <select id="audit-action" value={action} onChange={(e) => setAction((e.currentTarget as HTMLSelectElement).value as AuditActionName | '')}>
            <option value="">Toutes</option>
            {Object.entries(AUDIT_ACTION_LABELS).map(([value, label]) => <option value={value}>{label}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="audit-actor">Utilisateur</label>
          <input id="audit-actor" type="text" value={actor} onInput={(e) => setActor((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <button type="submit" class="secondary">Filtrer</button>
      </form>
      {error ? <p class="alert" role="alert">{error}</p> : null}
      <div class="table-scroll" tabIndex={0} role="group" aria-label="Journal d'audit (défilement horizontal)">
      <table class="audit-table" aria-label="Journal d'audit">
        <thead>
          <tr><th scope="col">Date</th><th scope="col">Action</th><th scope="col">Utilisateur</th><th scope="col">Rôles</th><th scope="col">Cible</th><th scope="col">Requête</th></tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td>{formatDateTime(e.at)}</td>
              <td>{AUDIT_ACTION_LABELS[e.action] ?? e.action}</td>
              <td title={e.actor}>{actorLabel(e.actor)}</td>
              <td>{e.roles.join(', ')}</td>
              <td>{TARGET_LABELS[e.targetType] ?? e.targetType}{e.targetId ? <> <code>{e.targetId}</code></> : null}</td>
              <td>{e.requestId ? <code>{e.requestId}</code> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
      {!loading && !error && events.length === 0 ? <p class="notice">Aucun événement.</p> : null}
      {next ? <button type="button" class="secondary" disabled={loading} onClick={() => void load(next)}>Afficher plus</button> : null}
    </section>
  );
}
