import { useEffect, useState } from 'preact/hooks';
import type { ColumnChoiceValue, CsvOptionsValue, ExportFormat } from './graphql';

/**
 * The column picker of the export dialog (docs/profiles.md): tick the columns,
 * order them, rename their headers, and for a CSV choose the encoding,
 * separators, date format and header line — then export with that choice,
 * or save it as a profile.
 */
export interface PickerColumn {
  key: string;
  header: string;
}
export interface PickerRow extends PickerColumn {
  included: boolean;
  custom: string;
}
export interface PickerChoice {
  columns: ColumnChoiceValue[];
  csv: CsvOptionsValue | null;
}

interface CsvState {
  encoding: 'UTF8_BOM' | 'WINDOWS_1252';
  separator: string;
  decimalSeparator: string;
  dateFormat: string;
  header: boolean;
}
export const DEFAULT_CSV: CsvState = { encoding: 'UTF8_BOM', separator: ';', decimalSeparator: ',', dateFormat: 'dd/mm/yyyy', header: true };

/** The rows as the API wants them: ticked ones, in order, a header only when renamed. */
export function toChoice(rows: readonly PickerRow[], csv: CsvOptionsValue | null): PickerChoice {
  const columns = rows
    .filter((r) => r.included)
    .map((r) => (r.custom.trim() && r.custom.trim() !== r.header ? { key: r.key, header: r.custom.trim() } : { key: r.key }));
  return { columns, csv };
}

const move = <T,>(list: readonly T[], i: number, j: number): T[] => {
  if (j < 0 || j >= list.length) return [...list];
  const next = [...list];
  [next[i], next[j]] = [next[j], next[i]];
  return next;
};

export function ColumnPicker({
  format,
  load,
  onChange,
  onSave,
}: {
  format: ExportFormat;
  load: () => Promise<PickerColumn[]>;
  onChange: (choice: PickerChoice | null) => void;
  /** Absent: the role may not save profiles. */
  onSave?: (name: string, choice: PickerChoice) => Promise<string | null>;
}) {
  const [rows, setRows] = useState<PickerRow[] | null>(null);
  const [csv, setCsv] = useState<CsvState>(DEFAULT_CSV);
  const [touched, setTouched] = useState(false);
  const [name, setName] = useState('');
  const [saveNote, setSaveNote] = useState<string | null>(null);

  useEffect(() => {
    load().then((cols) => setRows(cols.map((c) => ({ ...c, included: true, custom: c.header }))), () => setRows([]));
  }, []);

  const csvChoice = format === 'CSV' ? csv : null;
  useEffect(() => {
    onChange(touched && rows ? toChoice(rows, csvChoice) : null);
  }, [rows, csv, touched, format]);

  const update = (f: (rs: PickerRow[]) => PickerRow[]) => {
    setTouched(true);
    setRows((rs) => (rs ? f(rs) : rs));
  };
  const setOpt = <K extends keyof CsvState>(k: K, v: CsvState[K]) => {
    setTouched(true);
    setCsv((c) => ({ ...c, [k]: v }));
  };

  if (!rows) return <p class="hint">Chargement des colonnes…</p>;
  return (
    <details class="picker">
      <summary>Choisir les colonnes{format === 'CSV' ? ' et le format CSV' : ''}</summary>
      <ol class="picker-columns" aria-label="Colonnes du fichier">
        {rows.map((r, i) => (
          <li key={r.key}>
            <input type="checkbox" aria-label={`Inclure ${r.header}`} checked={r.included} onChange={() => update((rs) => rs.map((x) => (x.key === r.key ? { ...x, included: !x.included } : x)))} />
            <input type="text" aria-label={`En-tête de ${r.header}`} value={r.custom} onInput={(e) => { const v = (e.currentTarget as HTMLInputElement).value; update((rs) => rs.map((x) => (x.key === r.key ? { ...x, custom: v } : x))); }} />
            <button type="button" class="secondary" aria-label={`Monter ${r.header}`} disabled={i === 0} onClick={() => update((rs) => move(rs, i, i - 1))}>↑</button>
            <button type="button" class="secondary" aria-label={`Descendre ${r.header}`} disabled={i === rows.length - 1} onClick={() => update((rs) => move(rs, i, i + 1))}>↓</button>
          </li>
        ))}
      </ol>
      {format === 'CSV' && (
        <div class="picker-csv">
          <label class="field">
            <span>Encodage</span>
            <select aria-label="Encodage" value={csv.encoding} onChange={(e) => setOpt('encoding', (e.currentTarget as HTMLSelectElement).value as never)}>
              <option value="UTF8_BOM">UTF-8 avec BOM (Excel)</option>
              <option value="WINDOWS_1252">Windows-1252 (import paramétrable)</option>
            </select>
          </label>
          <label class="field">
            <span>Séparateur</span>
            <select aria-label="Séparateur" value={csv.separator} onChange={(e) => setOpt('separator', (e.currentTarget as HTMLSelectElement).value)}>
              <option value=";">point-virgule ;</option>
              <option value=",">virgule ,</option>
              <option value={'\t'}>tabulation</option>
            </select>
          </label>
          <label class="field">
            <span>Séparateur décimal</span>
            <select aria-label="Séparateur décimal" value={csv.decimalSeparator} onChange={(e) => setOpt('decimalSeparator', (e.currentTarget as HTMLSelectElement).value)}>
              <option value=",">virgule (12,50)</option>
              <option value=".">point (12.50)</option>
            </select>
          </label>
          <label class="field">
            <span>Format des dates</span>
            <select aria-label="Format des dates" value={csv.dateFormat} onChange={(e) => setOpt('dateFormat', (e.currentTarget as HTMLSelectElement).value)}>
              <option value="dd/mm/yyyy">jj/mm/aaaa</option>
              <option value="yyyy-mm-dd">aaaa-mm-jj</option>
              <option value="ddmmyyyy">jjmmaaaa</option>
              <option value="yyyymmdd">aaaammjj</option>
            </select>
          </label>
          <label class="radio">
            <input type="checkbox" checked={csv.header} onChange={() => setOpt('header', !csv.header)} />
            <span>Ligne d'en-tête</span>
          </label>
        </div>
      )}
      {onSave && (
        <div class="picker-save">
          <label class="field">
            <span>Nom du profil</span>
            <input type="text" aria-label="Nom du profil" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <button
            type="button"
            class="secondary"
            disabled={!name.trim()}
            onClick={async () => {
              setSaveNote(await onSave(name.trim(), toChoice(rows, csvChoice)));
            }}
          >
            Enregistrer comme profil
          </button>
          {saveNote && <p role="status">{saveNote}</p>}
        </div>
      )}
    </details>
  );
}
