import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, toApiError, type Api } from './api';
import { refusalLine } from './errors';
import { canExport, exportingAbsentReason } from './roles';
import { CancelExportMutation, DownloadUrlQuery, ExportQuery, ExportsQuery, ExportUpdatedSubscription, type ExportItem } from './graphql';
import { EXPORT_STATUS_LABELS, FINAL_EXPORT_STATUSES, formatBytes, formatDateTime, formatInt, percent, waitingText } from './format';
import { kindLabel } from './kinds';

const HISTORY_SIZE = 20;
const RANK: Record<string, number> = { QUEUED: 0, RUNNING: 1 };
/** QUEUED again after an attempt (waiting to retry, or for another worker) comes after RUNNING. */
const rank = (e: ExportItem) =>
  e.status === 'QUEUED' && (e.waitingReason === 'RETRY' || e.waitingReason === 'WORKER_LOST') ? 1.5 : (RANK[e.status] ?? 2);

/** A later state never gives way to an earlier one (a slow HTTP answer after a subscription event). */
function newer(incoming: ExportItem, current: ExportItem): boolean {
  if (rank(incoming) !== rank(current)) return rank(incoming) > rank(current);
  if (FINAL_EXPORT_STATUSES.has(current.status) && incoming.status !== current.status) return incoming.status === 'EXPIRED';
  return incoming.processedRows >= current.processedRows;
}

export interface ExportsState {
  items: ExportItem[];
  loadError: string | null;
  /** Errors of one export's actions (cancel, download), by id. */
  actionErrors: Record<string, string>;
  add(e: ExportItem): void;
  reload(): Promise<void>;
  cancel(id: string): Promise<void>;
  download(id: string): Promise<void>;
}

/**
 * The tenant's exports: the history from `invoiceExports` (newest first), then
 * one `invoiceExportUpdated` subscription per export still queued or running.
 */
export function useExports(api: Api): ExportsState {
  const [items, setItems] = useState<ExportItem[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionErrors, setActionErrors] = useState<Record<string, string>>({});
  const subscriptions = useRef(new Map<string, () => void>());

  const upsert = useCallback((e: ExportItem) => {
    setItems((list) => {
      const i = list.findIndex((x) => x.id === e.id);
      if (i < 0) return [e, ...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      if (!newer(e, list[i])) return list;
      const copy = list.slice();
      copy[i] = e;
      return copy;
    });
  }, []);

  const follow = useCallback(
    (e: ExportItem) => {
      if (FINAL_EXPORT_STATUSES.has(e.status) || subscriptions.current.has(e.id)) return;
      const stop = api.subscribe(
        ExportUpdatedSubscription,
        { id: e.id },
        (d) => upsert(d.invoiceExportUpdated),
        (err) => {
          subscriptions.current.delete(e.id);
          // The subscription ends after a final state; after an error, read the state once.
          if (err)
            api.query(ExportQuery, { id: e.id }).then(
              (d) => d.invoiceExport && upsert(d.invoiceExport),
              () => undefined,
            );
        },
      );
      subscriptions.current.set(e.id, stop);
    },
    [api, upsert],
  );

  const reload = useCallback(async () => {
    try {
      const d = await api.query(ExportsQuery, { first: HISTORY_SIZE });
      const list = d.invoiceExports.edges.map((edge) => edge.node);
      setLoadError(null);
      setItems((current) => {
        // Keep an export just requested that the page of history does not hold yet.
        const extra = current.filter((c) => !list.some((l) => l.id === c.id) && !FINAL_EXPORT_STATUSES.has(c.status));
        return [...extra, ...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      });
      list.forEach(follow);
    } catch (err) {
      setLoadError(refusalLine('Historique indisponible', toApiError(err)));
    }
  }, [api, follow]);

  useEffect(() => {
    void reload();
    const subs = subscriptions.current;
    return () => {
      subs.forEach((stop) => stop());
      subs.clear();
    };
  }, [reload]);

  const setActionError = (id: string, message: string | null) =>
    setActionErrors((all) => {
      const next = { ...all };
      if (message) next[id] = message;
      else delete next[id];
      return next;
    });

  return {
    items,
    loadError,
    actionErrors,
    reload,
    add(e) {
      upsert(e);
      follow(e);
    },
    async cancel(id) {
      setActionError(id, null);
      try {
        const d = await api.mutate(CancelExportMutation, { id });
        upsert(d.cancelInvoiceExport);
      } catch (err) {
        setActionError(id, refusalLine('Annulation refusée', toApiError(err)));
      }
    },
    async download(id) {
      setActionError(id, null);
      try {
        // A presigned URL expires: read a fresh one at each click.
        const d = await api.query(DownloadUrlQuery, { id });
        const url = d.invoiceExport?.downloadUrl;
        if (!url) throw new ApiError("Le fichier n'est plus disponible.", d.invoiceExport?.status ?? 'NOT_FOUND');
        window.location.assign(url);
      } catch (err) {
        setActionError(id, refusalLine('Téléchargement impossible', toApiError(err)));
      }
    },
  };
}

export function ExportsPanel({ state, live, roles }: { state: ExportsState; live: 'connected' | 'reconnecting' | null; roles: readonly string[] }) {
  const may = canExport(roles);
  return (
    <section class="exports" aria-labelledby="exports-title">
      <div class="exports-head">
        <h2 id="exports-title">Exports</h2>
        {live === 'reconnecting' && (
          <p class="live" role="status">
            Connexion temps réel perdue : nouvelle tentative…
          </p>
        )}
      </div>
      {!may && <p class="hint">{exportingAbsentReason(roles)}</p>}
      {state.loadError && (
        <p role="alert" class="alert">
          {state.loadError}
        </p>
      )}
      {state.items.length === 0 ? (
        <p class="empty">Aucun export pour l'instant. Cochez des pièces puis « Action pour … sélectionnés ».</p>
      ) : (
        <ul class="export-list">
          {state.items.map((e) => (
            <ExportRow key={e.id} e={e} state={state} may={may} />
          ))}
        </ul>
      )}
    </section>
  );
}

const STATUS_ICONS: Record<string, string> = {
  QUEUED: '⏳',
  RUNNING: '▶',
  COMPLETED: '✓',
  FAILED: '✗',
  CANCELLED: '⊘',
  EXPIRED: '⌛',
};

function ExportRow({ e, state, may }: { e: ExportItem; state: ExportsState; may: boolean }) {
  const pct = percent(e.progress);
  const title = `ex-${e.id}-title`;
  const total = e.rowCount ?? e.totalRows;
  const active = e.status === 'QUEUED' || e.status === 'RUNNING';
  const actionError = state.actionErrors[e.id];
  return (
    <li class={`export status-${e.status.toLowerCase()}`} aria-labelledby={title}>
      <h3 id={title}>
        {kindLabel(e.kind)} · {e.format}
      </h3>
      <p class="meta">
        Demandé le {formatDateTime(e.createdAt)}
        {e.fileName ? ` · ${e.fileName}` : ''}
        {e.fileSize != null ? ` · ${formatBytes(e.fileSize)}` : ''}
      </p>
      <p class="state">
        <span class="badge">
          <span aria-hidden="true">{STATUS_ICONS[e.status]} </span>
          {EXPORT_STATUS_LABELS[e.status]}
        </span>
        <span class="rows">
          {formatInt(e.processedRows)} / {total == null ? '…' : formatInt(total)} lignes
        </span>
      </p>
      <div class="progress-row">
        <div
          class="progress"
          role="progressbar"
          aria-labelledby={title}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={pct}
          aria-valuetext={`${pct} %, ${EXPORT_STATUS_LABELS[e.status]}`}
        >
          <div class="progress-fill" style={{ width: `${pct}%` }} />
        </div>
        <span class="pct" aria-hidden="true">
          {pct} %
        </span>
      </div>
      {e.status === 'QUEUED' && e.waitingReason && <p class="waiting">{waitingText(e)}</p>}
      {e.error && e.status !== 'QUEUED' && (
        <p class="error">
          Erreur ({e.error.code}) : {e.error.message}
        </p>
      )}
      {actionError && (
        <p class="error" role="alert">
          {actionError}
        </p>
      )}
      <div class="actions">
        {may && e.status === 'COMPLETED' && (
          <a
            href={`#export-${e.id}`}
            aria-describedby={title}
            onClick={(ev) => {
              ev.preventDefault();
              void state.download(e.id);
            }}
          >
            Télécharger
          </a>
        )}
        {may && active && (
          <button type="button" class="secondary" aria-describedby={title} onClick={() => void state.cancel(e.id)}>
            Annuler
          </button>
        )}
      </div>
    </li>
  );
}

