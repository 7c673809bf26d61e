import { useEffect, useRef, useState } from 'preact/hooks';
import { toApiError } from './api';
import { ColumnPicker, type PickerChoice, type PickerColumn } from './ColumnPicker';
import { refusalLine } from './errors';
import type { ExportFormat, ExportKind, ProfileInput, ProfileItem } from './graphql';
import { EXPORT_KINDS, FORMAT_LABELS, type KindEntry } from './kinds';

/**
 * "Action pour X sélectionnés": a menu button (Enter or Space opens it, the
 * arrows move, Escape closes it), then the file format of the chosen export.
 */
export function ActionMenu({
  count,
  busy,
  onExport,
  profiles = [],
  disabledReason,
  loadColumns,
  saveProfile,
}: {
  count: number;
  busy: boolean;
  onExport: (kind: ExportKind, format: ExportFormat, profileId: string | null, choice: PickerChoice | null) => void;
  /** Saved profiles (DESIGN §17): the dialog offers those of the chosen export. */
  profiles?: readonly ProfileItem[];
  /** The columns of a kind, for the picker (absent: no picker). */
  loadColumns?: (kind: ExportKind) => Promise<PickerColumn[]>;
  /** Saves a profile (absent: the role may not). */
  saveProfile?: (input: ProfileInput) => Promise<ProfileItem>;
  /** Set when the roles do not allow exporting: the button stays disabled and says why. */
  disabledReason?: string;
}) {
  const [open, setOpen] = useState(false);
  const [chosen, setChosen] = useState<KindEntry | null>(null);
  const [format, setFormat] = useState<ExportFormat | null>(null);
  const [profileId, setProfileId] = useState<string>('');
  const [choice, setChoice] = useState<PickerChoice | null>(null);
  const [savedNote, setSavedNote] = useState<string | null>(null);
  const kindProfiles = chosen ? profiles.filter((p) => p.kind === chosen.kind) : [];
  const profile = kindProfiles.find((p) => p.id === profileId) ?? null;
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
                setFormat(k.formats[0]);
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
              const f = profile ? profile.format : format ?? chosen.formats[0];
              close();
              onExport(chosen.kind, f, profile?.id ?? null, profile || f === 'FEC' ? null : choice);
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
              {chosen.formats.map((f) => (
                <label key={f} class="radio">
                  <input type="radio" name="format" value={f} checked={(profile ? profile.format : format) === f} onChange={() => setFormat(f)} />
                  <span>{FORMAT_LABELS[f] ?? f}</span>
                </label>
              ))}
            </fieldset>
            {!profile && loadColumns && (format ?? chosen.formats[0]) !== 'FEC' && (
              <ColumnPicker
                key={`${chosen.kind}-${format}`}
                format={format ?? chosen.formats[0]}
                load={() => loadColumns(chosen.kind)}
                onChange={setChoice}
                onSave={
                  saveProfile &&
                  (async (name, c) => {
                    try {
                      const saved = await saveProfile({ name, kind: chosen.kind, format: format ?? chosen.formats[0], columns: c.columns, csv: c.csv });
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
              <button type="submit" class="primary">
                Lancer l'export
              </button>
              <button type="button" class="secondary" onClick={() => close()}>
                Fermer
              </button>
            </div>
          </form>
        </div>
      )}
    </div>
  );
}
