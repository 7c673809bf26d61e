import { useEffect, useRef, useState } from 'preact/hooks';
import { toApiError } from './api';
import { ColumnPicker, type PickerChoice, type PickerColumn } from './ColumnPicker';
import { refusalLine } from './errors';
import type { AccountingCheck, ExportFormat, ExportKind, ProfileInput, ProfileItem } from './graphql';
import { CHECKED_KINDS, EXPORT_KINDS, FORMAT_LABELS, formatsOf, type KindEntry } from './kinds';
import { PreflightResult, usePreflight } from './Preflight';

/** Only the CSV and XLSX files take a column choice; the FEC and the importer layouts are fixed by their contract. */
const PICKABLE_FORMATS: readonly string[] = ['CSV', 'XLSX'];

export interface ActionMenuProps {
  count: number;
  busy: boolean;
  onExport: (kind: ExportKind, format: ExportFormat, profileId: string | null, choice: PickerChoice | null) => void;
  /** The accountant's software, offered first for the accounting export. */
  preferredFormat?: ExportFormat | null;
  /** The pre-flight check of the accounting export for the current selection. */
  check?: (format: ExportFormat) => Promise<AccountingCheck>;
  /** Saved profiles (docs/profiles.md): the dialog offers those of the chosen export. */
  profiles?: readonly ProfileItem[];
  /** The columns of a kind, for the picker (absent: no picker). */
  loadColumns?: (kind: ExportKind) => Promise<PickerColumn[]>;
  /** Saves a profile (absent: the role may not). */
  saveProfile?: (input: ProfileInput) => Promise<ProfileItem>;
  /** Set when the roles do not allow exporting: the button stays disabled and says why. */
  disabledReason?: string;
}

/**
 * "Action pour X sélectionnés": a menu button (Enter or Space opens it, the
 * arrows move, Escape closes it), then the file format of the chosen export.
 * For "Exporter les écritures comptables" the chosen format is checked first
 * (counts, totals, problems): blocking problems disable "Lancer l'export".
 */
export function ActionMenu({ count, busy, onExport, preferredFormat = null, check, profiles = [], disabledReason, loadColumns, saveProfile }: ActionMenuProps) {
  const [open, setOpen] = useState(false);
  const [chosen, setChosen] = useState<KindEntry | null>(null);
  const [format, setFormat] = useState<ExportFormat | null>(null);
  const [profileId, setProfileId] = useState<string>('');
  const [choice, setChoice] = useState<PickerChoice | null>(null);
  const [savedNote, setSavedNote] = useState<string | null>(null);
  const kindProfiles = chosen ? profiles.filter((p) => p.kind === chosen.kind) : [];
  const profile = kindProfiles.find((p) => p.id === profileId) ?? null;
  const effectiveFormat = profile ? profile.format : format;
  const checked = chosen && check && CHECKED_KINDS.includes(chosen.kind) ? (check as (f: string) => Promise<AccountingCheck>) : null;
  const preflight = usePreflight(open && chosen ? effectiveFormat : null, checked);
  const blocked = preflight?.state === 'running' || (preflight?.state === 'done' && preflight.check.problems.length > 0);
  const button = useRef<HTMLButtonElement>(null);
  const popup = useRef<HTMLDivElement>(null);

  const close = (refocus = true) => {
    setOpen(false);
    setChosen(null);
    if (refocus) button.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    const first = popup.current?.querySelector<HTMLElement>(chosen ? 'input:checked' : '[role="menuitem"]');
    first?.focus();
    const outside = (e: MouseEvent) => {
      if (!popup.current?.contains(e.target as Node) && !button.current?.contains(e.target as Node)) close(false);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [open, chosen]);

  useEffect(() => {
    if (count === 0 && open) close(false);
  }, [count]);

  const onMenuKey = (e: KeyboardEvent) => {
    const items = [...(popup.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLElement);
    const go = (n: number) => {
      e.preventDefault();
      items[(n + items.length) % items.length]?.focus();
    };
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(items.length - 1);
    else if (e.key === 'Tab') close(false);
  };

  const label = `Action pour ${count} sélectionné${count > 1 ? 's' : ''}`;
  return (
    <div
      class="action-menu"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.preventDefault();
          close();
        }
      }}
    >
      <button
        ref={button}
        type="button"
        class="primary"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls="action-popup"
        disabled={count === 0 || busy || Boolean(disabledReason)}
        aria-describedby={disabledReason ? 'action-absent' : undefined}
        onClick={() => (open ? close() : setOpen(true))}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        {label} <span aria-hidden="true">▾</span>
      </button>
      {disabledReason && (
        <p id="action-absent" class="hint">
          {disabledReason}
        </p>
      )}
      {open && !chosen && (
        <div id="action-popup" ref={popup} role="menu" aria-label={label} class="popup" onKeyDown={onMenuKey}>
          {EXPORT_KINDS.map((k) => (
            <button
              key={k.kind}
              type="button"
              role="menuitem"
              tabIndex={-1}
              onClick={() => {
                setChosen(k);
                setFormat(formatsOf(k, preferredFormat)[0]);
                setProfileId('');
                setChoice(null);
                setSavedNote(null);
              }}
            >
              {k.label}
            </button>
          ))}
        </div>
      )}
      {open && chosen && (
        <div id="action-popup" ref={popup} role="dialog" aria-labelledby="format-title" class="popup">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              if (blocked) return;
              const f = profile ? profile.format : format ?? formatsOf(chosen, preferredFormat)[0];
              close();
              onExport(chosen.kind, f, profile?.id ?? null, profile || !PICKABLE_FORMATS.includes(f) ? null : choice);
            }}
          >
            <h3 id="format-title">
              {chosen.label} : {count} pièce{count > 1 ? 's' : ''}
            </h3>
            {kindProfiles.length > 0 && (
              <label class="field">
                <span>Profil d'export</span>
                <select value={profileId} onChange={(e) => setProfileId((e.currentTarget as HTMLSelectElement).value)}>
                  <option value="">Aucun : toutes les colonnes</option>
                  {kindProfiles.map((p) => (
                    <option key={p.id} value={p.id}>
                      {p.name} ({p.format})
                    </option>
                  ))}
                </select>
              </label>
            )}
            {savedNote && <p role="status">{savedNote}</p>}
            {profile && (
              <p class="hint" aria-live="polite">
                Colonnes du profil : {profile.columns.map((c) => c.header).join(', ')}
              </p>
            )}
            <fieldset disabled={Boolean(profile)}>
              <legend>Format du fichier{profile ? ' (celui du profil)' : ''}</legend>
              {formatsOf(chosen, preferredFormat).map((f) => (
                <label key={f} class="radio">
                  <input type="radio" name="format" value={f} checked={(profile ? profile.format : format) === f} onChange={() => setFormat(f)} />
                  <span>{FORMAT_LABELS[f] ?? f}</span>
                </label>
              ))}
            </fieldset>
            <PreflightResult result={preflight} />
            {!profile && loadColumns && PICKABLE_FORMATS.includes(format ?? formatsOf(chosen, preferredFormat)[0]) && (
              <ColumnPicker
                key={`${chosen.kind}-${format}`}
                format={format ?? formatsOf(chosen, preferredFormat)[0]}
                load={() => loadColumns(chosen.kind)}
                onChange={setChoice}
                onSave={
                  saveProfile &&
                  (async (name, c) => {
                    try {
                      const saved = await saveProfile({ name, kind: chosen.kind, format: format ?? formatsOf(chosen, preferredFormat)[0], columns: c.columns, csv: c.csv });
                      // The new profile is chosen: the picker gives way to it.
                      setProfileId(saved.id);
                      setSavedNote(`Profil « ${saved.name} » enregistré et choisi.`);
                      return null;
                    } catch (err) {
                      return refusalLine('Enregistrement refusé', toApiError(err));
                    }
                  })
                }
              />
            )}
            <div class="popup-actions">
              <button type="submit" class="primary" disabled={blocked} aria-describedby={blocked ? 'launch-blocked' : undefined}>
                Lancer l'export
              </button>
              <button type="button" class="secondary" onClick={() => close()}>
                Fermer
              </button>
            </div>
            {blocked && (
              <p id="launch-blocked" class="hint">
                {preflight?.state === 'running' ? 'Lancement possible une fois la vérification terminée.' : 'Lancement impossible : corrigez les problèmes ci-dessus ou choisissez un autre format.'}
              </p>
            )}
          </form>
        </div>
      )}
    </div>
  );
}
