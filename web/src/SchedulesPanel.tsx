import { useEffect, useState } from 'preact/hooks';
import { toApiError, type Api } from './api';
import { refusalLine } from './errors';
import { formatDate, formatDateTime } from './format';
import { RunScheduleNowMutation, SchedulesQuery, type ScheduleItem } from './graphql';
import { canManageSchedules } from './roles';

/**
 * The region "Envois programmés" (DESIGN §17): each scheduled send with its
 * next run and how the last one went. ADMIN may run one now; the others
 * read, and are told why they cannot.
 */
const WEEKDAYS = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'];
const RUN_STATUS: Record<string, string> = {
  PENDING: 'en préparation',
  REQUESTED: 'export en cours',
  EMPTY: 'période vide',
  COMPLETED: 'envoyé',
  FAILED: 'échec (le responsable a été prévenu)',
};

export function cadenceText(s: Pick<ScheduleItem, 'cadence' | 'day' | 'hour'>): string {
  const at = `à ${s.hour} h`;
  if (s.cadence === 'WEEKLY') return `Chaque semaine, le ${WEEKDAYS[s.day - 1] ?? s.day} ${at}`;
  const day = s.day === 1 ? '1er' : String(s.day);
  if (s.cadence === 'MONTHLY') return `Chaque mois, le ${day} ${at}`;
  return `Chaque trimestre, le ${day} du premier mois ${at}`;
}

export function SchedulesPanel({ api, roles }: { api: Api; roles: readonly string[] }) {
  const [items, setItems] = useState<ScheduleItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const admin = canManageSchedules(roles);

  const load = () =>
    api.query(SchedulesQuery, {}).then(
      (d) => {
        setItems(d.exportSchedules);
        setError(null);
      },
      (err) => setError(refusalLine('Envois programmés indisponibles', toApiError(err))),
    );
  useEffect(() => {
    void load();
  }, [api]);

  async function runNow(s: ScheduleItem) {
    setNotes((n) => ({ ...n, [s.id]: 'Lancement…' }));
    try {
      const d = await api.mutate(RunScheduleNowMutation, { id: s.id });
      const text = d.runExportScheduleNow
        ? 'Envoi lancé pour la dernière période : le fichier est préparé puis envoyé (une seule fois par période).'
        : 'La dernière période ne contient aucune pièce : rien à envoyer.';
      setNotes((n) => ({ ...n, [s.id]: text }));
      void load();
    } catch (err) {
      setNotes((n) => ({ ...n, [s.id]: refusalLine('Lancement refusé', toApiError(err)) }));
    }
  }

  return (
    <section class="schedules" aria-labelledby="schedules-title">
      <h2 id="schedules-title">Envois programmés</h2>
      {!admin && <p class="hint">Créer, modifier ou lancer un envoi programmé demande le rôle ADMIN.</p>}
      {error && (
        <p role="alert" class="alert">
          {error}
        </p>
      )}
      {items && items.length === 0 && <p class="empty">Aucun envoi programmé.</p>}
      {items && items.length > 0 && (
        <ul class="schedule-list">
          {items.map((s) => (
            <li key={s.id} aria-labelledby={`sch-${s.id}`}>
              <h3 id={`sch-${s.id}`}>{s.profile.name}</h3>
              <p class="meta">
                {cadenceText(s)} · à {s.recipients.join(', ')}
                {s.enabled ? '' : ' · désactivé'}
              </p>
              <p class="meta">
                {s.nextRunAt ? `Prochain envoi : ${formatDateTime(s.nextRunAt)}` : 'Aucun envoi prévu'}
                {s.lastRunStatus ? ` · Dernier envoi (période du ${formatDate(s.lastPeriodStart)}) : ${RUN_STATUS[s.lastRunStatus] ?? s.lastRunStatus}` : ' · Pas encore envoyé'}
              </p>
              {admin && (
                <button type="button" class="secondary" aria-describedby={`sch-${s.id}`} onClick={() => void runNow(s)}>
                  Lancer maintenant
                </button>
              )}
              {notes[s.id] && <p role="status">{notes[s.id]}</p>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
