import { useEffect, useState } from 'preact/hooks';
import { toApiError, type Api } from './api';
import { refusalLine } from './errors';
import { formatDate, formatDateTime } from './format';
import {
  CreateScheduleMutation,
  DeleteScheduleMutation,
  UpdateScheduleMutation,
  ProfilesQuery,
  RunScheduleNowMutation,
  SchedulesQuery,
  type ProfileItem,
  type ScheduleInput,
  type ScheduleItem,
} from './graphql';
import { canManageSchedules } from './roles';

/**
 * The region "Envois programmés" (docs/profiles.md): each scheduled send with its
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
  const [editing, setEditing] = useState<string | null>(null);
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

  async function remove(s: ScheduleItem) {
    try {
      await api.mutate(DeleteScheduleMutation, { id: s.id });
      void load();
    } catch (err) {
      setNotes((n) => ({ ...n, [s.id]: refusalLine('Suppression refusée', toApiError(err)) }));
    }
  }

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
                <div class="popup-actions">
                  <button type="button" class="secondary" aria-describedby={`sch-${s.id}`} aria-expanded={editing === s.id} onClick={() => setEditing(editing === s.id ? null : s.id)}>
                    Modifier
                  </button>
                  <button type="button" class="secondary" aria-describedby={`sch-${s.id}`} onClick={() => void runNow(s)}>
                    Lancer maintenant
                  </button>
                  <button type="button" class="secondary" aria-describedby={`sch-${s.id}`} onClick={() => void remove(s)}>
                    Supprimer
                  </button>
                </div>
              )}
              {notes[s.id] && <p role="status">{notes[s.id]}</p>}
              {admin && editing === s.id && (
                <ScheduleForm
                  api={api}
                  existing={s}
                  onSaved={() => {
                    setEditing(null);
                    setNotes((n) => ({ ...n, [s.id]: 'Envoi programmé modifié.' }));
                    void load();
                  }}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      {admin && <ScheduleForm api={api} onSaved={() => void load()} />}
    </section>
  );
}

/**
 * ADMIN: a new scheduled send, or one changed (`existing`). Every refusal of
 * the API is shown in French with its code.
 */
function ScheduleForm({ api, existing, onSaved }: { api: Api; existing?: ScheduleItem; onSaved: () => void }) {
  const [profiles, setProfiles] = useState<ProfileItem[]>([]);
  const [form, setForm] = useState(
    existing
      ? {
          profileId: existing.profile.id, cadence: existing.cadence, day: String(existing.day), hour: String(existing.hour),
          recipients: existing.recipients.join(', '), selection: existing.selection, emptyPeriod: existing.emptyPeriod, enabled: existing.enabled,
        }
      : { profileId: '', cadence: 'MONTHLY', day: '1', hour: '6', recipients: '', selection: 'PREVIOUS_PERIOD', emptyPeriod: 'SKIP', enabled: true },
  );
  const title = existing ? `Modifier l'envoi ${existing.profile.name}` : 'Nouvel envoi programmé';
  const titleId = existing ? `edit-schedule-${existing.id}` : 'new-schedule-title';
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => {
    api.query(ProfilesQuery, {}).then((d) => setProfiles(d.exportProfiles), () => setProfiles([]));
  }, [api]);
  const set = (k: keyof typeof form) => (e: Event) => setForm((f) => ({ ...f, [k]: (e.currentTarget as HTMLInputElement).value }));

  async function submit(e: Event) {
    e.preventDefault();
    const input: ScheduleInput = {
      profileId: form.profileId,
      cadence: form.cadence as ScheduleInput['cadence'],
      day: Number(form.day),
      hour: Number(form.hour),
      recipients: form.recipients.split(/[\s,;]+/).filter(Boolean),
      selection: form.selection as ScheduleInput['selection'],
      emptyPeriod: form.emptyPeriod as NonNullable<ScheduleInput['emptyPeriod']>,
      enabled: form.enabled,
      ...(existing?.ownerEmail ? { ownerEmail: existing.ownerEmail } : {}),
    };
    try {
      if (existing) {
        await api.mutate(UpdateScheduleMutation, { id: existing.id, input });
      } else {
        await api.mutate(CreateScheduleMutation, { input });
        setNote('Envoi programmé créé.');
      }
      onSaved();
    } catch (err) {
      setNote(refusalLine(existing ? 'Modification refusée' : 'Création refusée', toApiError(err)));
    }
  }

  if (!profiles.length) return <p class="hint">Enregistrez d'abord un profil d'export (dans « Action pour … sélectionnés ») pour le programmer.</p>;
  return (
    <form class="new-schedule" aria-labelledby={titleId} onSubmit={(e) => void submit(e)}>
      <h3 id={titleId}>{title}</h3>
      <label class="field">
        <span>Profil</span>
        <select aria-label="Profil" value={form.profileId} onChange={set('profileId')} required>
          <option value="">Choisir…</option>
          {profiles.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Fréquence</span>
        <select aria-label="Fréquence" value={form.cadence} onChange={set('cadence')}>
          <option value="WEEKLY">Chaque semaine (jour 1 = lundi … 7)</option>
          <option value="MONTHLY">Chaque mois (jour 1 à 28)</option>
          <option value="QUARTERLY">Chaque trimestre (jour 1 à 28 du premier mois)</option>
        </select>
      </label>
      <label class="field">
        <span>Jour</span>
        <input type="text" inputMode="numeric" aria-label="Jour" value={form.day} onInput={set('day')} />
      </label>
      <label class="field">
        <span>Heure</span>
        <input type="text" inputMode="numeric" aria-label="Heure" value={form.hour} onInput={set('hour')} />
      </label>
      <label class="field grow">
        <span>Destinataires (1 à 10 adresses)</span>
        <input type="text" aria-label="Destinataires" value={form.recipients} onInput={set('recipients')} />
      </label>
      <label class="field">
        <span>Sélection</span>
        <select aria-label="Sélection" value={form.selection} onChange={set('selection')}>
          <option value="PREVIOUS_PERIOD">Pièces de la période écoulée</option>
          <option value="NOT_YET_TRANSFERRED">Écritures pas encore transférées</option>
        </select>
      </label>
      <label class="field">
        <span>Période vide</span>
        <select aria-label="Période vide" value={form.emptyPeriod} onChange={set('emptyPeriod')}>
          <option value="SKIP">Ne rien envoyer</option>
          <option value="SEND_NOTICE">Envoyer un avis</option>
        </select>
      </label>
      <label class="field">
        <span>Actif</span>
        <input type="checkbox" aria-label="Actif" checked={form.enabled} onChange={(e) => setForm((f) => ({ ...f, enabled: (e.currentTarget as HTMLInputElement).checked }))} />
      </label>
      <button type="submit" class="primary">
        {existing ? 'Enregistrer' : "Créer l'envoi"}
      </button>
      {note && <p role="status">{note}</p>}
    </form>
  );
}
