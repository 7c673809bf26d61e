import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { toApiError, type Api } from './api';
import type { PickerChoice } from './ColumnPicker';
import { refusalLine } from './errors';
import { canExport, exportingAbsentReason } from './roles';
import { ActionMenu } from './ActionMenu';
import { AccountingCheckQuery, AccountingSoftwareQuery, CreateProfileMutation, ExportColumnsQuery, InvoicesQuery, ProfilesQuery, RequestExportMutation, type ProfileItem, type ExportFormat, type ExportItem, type ExportKind, type InvoiceFilterInput, type InvoiceRow } from './graphql';
import { PAYMENT_LABELS, PERIOD_LABELS, STATUS_LABELS, TYPE_LABELS, formatDate, formatDecimal, formatInt, formatMoney } from './format';
import { kindLabel } from './kinds';
import {
  EMPTY_SELECTION,
  describeSelection,
  headerState,
  isSelected,
  selectAll,
  selectedCount,
  toSelectionInput,
  toggleRow,
  type Selection,
} from './selection';

export const PAGE_SIZE = 50;
const TYPING_DELAY_MS = 300;

interface Filters {
  search: string;
  type: string;
  status: string;
  year: string;
  period: string;
}
/** What the API accepts as a billing year; anything else is not applied (and the field says so). */
const YEAR = /^\d{4}(\/\d{4})?$/;
const NO_FILTERS: Filters = { search: '', type: '', status: '', year: '', period: '' };

function toInvoiceFilter(f: Filters): InvoiceFilterInput {
  const filter: InvoiceFilterInput = {};
  if (f.search.trim()) filter.search = f.search.trim();
  if (f.type) filter.types = [f.type as NonNullable<InvoiceFilterInput['types']>[number]];
  if (f.status) filter.statuses = [f.status as NonNullable<InvoiceFilterInput['statuses']>[number]];
  if (f.year.trim() && YEAR.test(f.year.trim())) filter.billingYear = f.year.trim();
  if (f.period) filter.billingPeriods = [f.period as NonNullable<InvoiceFilterInput['billingPeriods']>[number]];
  return filter;
}

/** The list's columns (the seed's, in its order): header → cell. */
const COLUMNS: { header: string; cell: (i: InvoiceRow) => string; numeric?: boolean }[] = [
  { header: 'Type de pièce', cell: (i) => TYPE_LABELS[i.type] },
  { header: 'N° de pièce', cell: (i) => i.number },
  { header: 'Date de facturation', cell: (i) => formatDate(i.billingDate) },
  { header: 'Numéro de rôle', cell: (i) => (i.roleNumber == null ? '' : String(i.roleNumber)), numeric: true },
  { header: 'Payeur', cell: (i) => i.payer.displayName },
  { header: 'Période de facturation', cell: (i) => PERIOD_LABELS[i.billingPeriod] },
  { header: 'Année de facturation', cell: (i) => i.billingYear },
  { header: 'Notes', cell: (i) => i.notes ?? '' },
  { header: 'Montant dû', cell: (i) => formatMoney(i.amountDue), numeric: true },
  { header: 'Montant payé', cell: (i) => formatMoney(i.amountPaid), numeric: true },
  { header: 'Restant dû', cell: (i) => formatMoney(i.remainingDue), numeric: true },
  { header: "Total en attente d'encaissement", cell: (i) => formatMoney(i.pendingCollection), numeric: true },
  { header: 'État', cell: (i) => STATUS_LABELS[i.status] },
  { header: 'Identifiant unique', cell: (i) => i.uniqueIdentifier ?? '' },
  { header: 'Identifiant client', cell: (i) => i.payer.customerIdentifier ?? '' },
  { header: 'Quotient familial', cell: (i) => formatDecimal(i.payer.familyQuotient), numeric: true },
  { header: 'Mode de règlement', cell: (i) => (i.paymentMethod ? PAYMENT_LABELS[i.paymentMethod] : '') },
];
const NUMBER_COLUMN = 1;

interface Page {
  /** Rows before this page: the range shown is the one received, not the one being loaded. */
  offset: number;
  rows: InvoiceRow[];
  totalCount: number;
  hasNextPage: boolean;
  endCursor: string | null;
}

export function InvoiceList({ api, onExportRequested, roles = [] }: { api: Api; onExportRequested: (e: ExportItem) => void; roles?: readonly string[] }) {
  const [profiles, setProfiles] = useState<ProfileItem[]>([]);
  useEffect(() => {
    // Profiles are a convenience: without them the dialog offers the default files.
    api.query(ProfilesQuery, {}).then((d) => setProfiles(d.exportProfiles), () => setProfiles([]));
  }, [api]);
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<Page | null>(null);
  const [loading, setLoading] = useState(false);
  const [listError, setListError] = useState<string | null>(null);
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [notice, setNotice] = useState<string | null>(null);
  const [requestError, setRequestError] = useState<string | null>(null);
  const [requesting, setRequesting] = useState(false);
  const seq = useRef(0);
  const headerBox = useRef<HTMLInputElement>(null);

  const filter = useMemo(() => toInvoiceFilter(applied), [applied]);
  const filterKey = JSON.stringify(filter);
  const totalCount = page?.totalCount ?? 0;
  const count = selectedCount(selection, totalCount);

  // Typing waits a moment; the menus apply at once.
  useEffect(() => {
    const same = draft.search === applied.search && draft.year === applied.year;
    const t = setTimeout(() => setApplied(draft), same ? 0 : TYPING_DELAY_MS);
    return () => clearTimeout(t);
  }, [draft]);

  // A new filter: back to the first page, and the selection no longer means the same thing.
  const lastFilterKey = useRef(filterKey);
  useEffect(() => {
    if (lastFilterKey.current === filterKey) return;
    lastFilterKey.current = filterKey;
    setCursors([null]);
    // `count` is still the old filter's: the page of the new one is not loaded yet.
    setNotice(count > 0 ? `Le filtre a changé : la sélection (${count} pièce${count > 1 ? 's' : ''}) a été effacée.` : null);
    setSelection(EMPTY_SELECTION);
  }, [filterKey]);

  const after = cursors[cursors.length - 1];
  useEffect(() => {
    const mine = ++seq.current;
    const offset = (cursors.length - 1) * PAGE_SIZE;
    setLoading(true);
    api.query(InvoicesQuery, { filter, first: PAGE_SIZE, after }).then(
      (d) => {
        if (mine !== seq.current) return;
        const c = d.invoices;
        setPage({ offset, rows: c.edges.map((e) => e.node), totalCount: c.totalCount, hasNextPage: c.pageInfo.hasNextPage, endCursor: c.pageInfo.endCursor ?? null });
        setListError(null);
        setLoading(false);
      },
      (err) => {
        if (mine !== seq.current) return;
        const e = toApiError(err);
        setListError(refusalLine('Liste indisponible', e));
        setPage(null); // no selection or export on a list the API refused
        setLoading(false);
      },
    );
  }, [filterKey, after, api]);

  const header = headerState(selection, totalCount);
  useEffect(() => {
    if (headerBox.current) headerBox.current.indeterminate = header.mixed;
  }, [header.mixed]);

  const change = (k: keyof Filters) => (e: Event) => setDraft((d) => ({ ...d, [k]: (e.currentTarget as HTMLInputElement).value }));

  // The accountant's software (the accounting export's first format); the page works without it.
  const [software, setSoftware] = useState<ExportFormat | null>(null);
  useEffect(() => {
    api.query(AccountingSoftwareQuery, {}).then((d) => setSoftware(d.accountingSettings.accountingSoftware), () => setSoftware(null));
  }, [api]);

  // The pre-flight check of the current selection (a new function when the selection changes: the dialog checks again).
  const selectionInput = toSelectionInput(selection, filter, totalCount);
  const selectionKey = JSON.stringify(selectionInput);
  const checkAccounting = useCallback(
    async (format: ExportFormat) => {
      if (!selectionInput) throw new Error('aucune pièce sélectionnée');
      try {
        return (await api.query(AccountingCheckQuery, { selection: selectionInput, format })).accountingExportCheck;
      } catch (err) {
        const e = toApiError(err);
        throw new Error(`${e.message} (${e.code})`);
      }
    },
    [api, selectionKey],
  );

  async function requestExport(kind: ExportKind, format: ExportFormat, profileId: string | null, choice: PickerChoice | null) {
    const sel = toSelectionInput(selection, filter, totalCount);
    if (!sel) return;
    setRequestError(null);
    setNotice(null);
    setRequesting(true);
    try {
      const d = await api.mutate(RequestExportMutation, {
        input: { kind, format, locale: 'fr-FR', selection: sel, idempotencyKey: newKey(), ...(profileId ? { profileId } : {}), ...(choice ? { columns: choice.columns, csv: choice.csv } : {}) },
      });
      onExportRequested(d.requestInvoiceExport);
      setNotice(`Export demandé : ${kindLabel(kind)} (${format}) de ${count} pièce${count > 1 ? 's' : ''}. Suivez-le dans « Exports ».`);
    } catch (err) {
      setRequestError(refusalLine('Export refusé', toApiError(err)));
    } finally {
      setRequesting(false);
    }
  }

  const first = page?.offset ?? 0;
  const yearInvalid = draft.year.trim() !== '' && !YEAR.test(draft.year.trim());
  return (
    <>
      <form class="filters" role="search" aria-label="Filtres" onSubmit={(e) => e.preventDefault()}>
        <div class="field grow">
          <label for="f-search">Rechercher</label>
          <input id="f-search" type="search" value={draft.search} onInput={change('search')} placeholder="N° de pièce ou payeur" autocomplete="off" />
        </div>
        <div class="field">
          <label for="f-type">Type de pièce</label>
          <select id="f-type" value={draft.type} onChange={change('type')}>
            <option value="">Tous</option>
            <option value="INVOICE">Factures</option>
            <option value="CREDIT_NOTE">Avoirs</option>
          </select>
        </div>
        <div class="field">
          <label for="f-status">État</label>
          <select id="f-status" value={draft.status} onChange={change('status')}>
            <option value="">Tous</option>
            {Object.entries(STATUS_LABELS).map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-year">Année de facturation</label>
          <input
            id="f-year"
            type="text"
            inputMode="numeric"
            value={draft.year}
            onInput={change('year')}
            placeholder="2018/2019"
            size={10}
            aria-invalid={yearInvalid}
            aria-describedby="f-year-hint"
          />
          <span id="f-year-hint" class={yearInvalid ? 'field-error' : 'hint'}>
            {yearInvalid ? 'Format : 2018/2019 ou 2015 (non appliqué)' : 'ex. 2018/2019 ou 2015'}
          </span>
        </div>
        <div class="field">
          <label for="f-period">Période de facturation</label>
          <select id="f-period" value={draft.period} onChange={change('period')}>
            <option value="">Toutes</option>
            {Object.entries(PERIOD_LABELS).map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
      </form>

      <div class="toolbar">
        <ActionMenu
          count={count}
          busy={requesting}
          profiles={profiles}
          preferredFormat={software}
          check={checkAccounting}
          disabledReason={canExport(roles) ? undefined : exportingAbsentReason(roles)}
          onExport={(k, f, p, c) => void requestExport(k, f, p, c)}
          loadColumns={(kind) => api.query(ExportColumnsQuery, { kind }).then((d) => d.exportColumns)}
          saveProfile={
            canExport(roles)
              ? async (input) => {
                  const d = await api.mutate(CreateProfileMutation, { input });
                  setProfiles((ps) => [...ps, d.createExportProfile]);
                  return d.createExportProfile;
                }
              : undefined
          }
        />
        <p class="selection-summary">{describeSelection(selection, totalCount)}</p>
      </div>
      <div class="messages">
        <p role="status" class="notice">
          {notice ?? ''}
        </p>
        {requestError && (
          <p role="alert" class="alert">
            {requestError}
          </p>
        )}
        {listError && (
          <p role="alert" class="alert">
            {listError}
          </p>
        )}
      </div>

      <div class="table-scroll" tabIndex={0} role="group" aria-label="Tableau des factures et avoirs (défilement horizontal)">
        <table aria-labelledby="page-title" aria-busy={loading} aria-rowcount={totalCount + 1}>
          <thead>
            <tr aria-rowindex={1}>
              <th scope="col" class="check">
                <label class="all">
                  <input
                    ref={headerBox}
                    type="checkbox"
                    checked={header.checked}
                    disabled={totalCount === 0}
                    onChange={(e) => {
                      setNotice(null);
                      setSelection(selectAll(selection.mode !== 'all'));
                    }}
                  />
                  <span>Tous les résultats</span>
                </label>
              </th>
              {COLUMNS.map((c) => (
                <th key={c.header} scope="col" class={c.numeric ? 'num' : undefined}>
                  {c.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {page?.rows.map((inv, n) => {
              const ticked = isSelected(selection, inv.id);
              return (
                <tr key={inv.id} class={ticked ? 'ticked' : undefined} aria-rowindex={first + n + 2}>
                  <td class="check">
                    <input
                      type="checkbox"
                      aria-label={`Sélectionner ${inv.number}`}
                      checked={ticked}
                      onChange={(e) => {
                        setNotice(null);
                        setSelection((s) => toggleRow(s, inv.id, e.currentTarget.checked));
                      }}
                    />
                  </td>
                  {COLUMNS.map((c, k) =>
                    k === NUMBER_COLUMN ? (
                      <th key={c.header} scope="row">
                        {c.cell(inv)}
                      </th>
                    ) : (
                      <td key={c.header} class={c.numeric ? 'num' : undefined}>
                        {c.cell(inv)}
                      </td>
                    ),
                  )}
                </tr>
              );
            })}
            {page && page.rows.length === 0 && (
              <tr>
                <td colSpan={COLUMNS.length + 1} class="empty">
                  Aucune pièce ne correspond au filtre.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      <nav class="pager" aria-label="Pages de la liste">
        <button type="button" class="secondary" disabled={cursors.length <= 1 || loading} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Précédent
        </button>
        <p aria-live="polite">
          {page
            ? page.totalCount === 0
              ? '0 résultat'
              : `${formatInt(first + 1)}–${formatInt(first + page.rows.length)} sur ${formatInt(page.totalCount)} résultat${page.totalCount > 1 ? 's' : ''}`
            : 'Chargement…'}
        </p>
        <button
          type="button"
          class="secondary"
          disabled={!page?.hasNextPage || loading}
          onClick={() => page?.endCursor && setCursors((c) => [...c, page.endCursor])}
        >
          Suivant
        </button>
      </nav>
    </>
  );
}

function newKey(): string {
  // crypto.randomUUID needs a secure context (not plain http on a LAN address).
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
