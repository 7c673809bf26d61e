/**
 * French display of the API's values: labels of the enums (the same words as
 * the files, docs/data-model.md) and amounts from decimal strings, without floats.
 */
export const TYPE_LABELS = { INVOICE: 'facture', CREDIT_NOTE: 'avoir' } as const;

export const STATUS_LABELS = {
  TO_COLLECT: 'À encaisser',
  PARTIALLY_PAID: 'Partiellement encaissée',
  PAID: 'Encaissée',
  SETTLED: 'Cotisé',
  CANCELLED: 'Annulée',
} as const;

export const PERIOD_LABELS = {
  ANNUAL: 'Annuel',
  SEMESTER_1: '1er semestre',
  SEMESTER_2: '2e semestre',
  QUARTER_1: '1er trimestre',
  QUARTER_2: '2e trimestre',
  QUARTER_3: '3e trimestre',
  QUARTER_4: '4e trimestre',
  MONTHLY: 'Mensuel',
} as const;

export const PAYMENT_LABELS = {
  CHEQUE: 'Chèque',
  CASH: 'Espèces',
  BANK_TRANSFER: 'Virement',
  DIRECT_DEBIT: 'Prélèvement',
  CARD: 'Carte bancaire',
  HOLIDAY_VOUCHER: 'Chèques vacances',
  OTHER: 'Autre',
} as const;

/** Export statuses as the page shows them (docs/frontend.md). */
export const EXPORT_STATUS_LABELS = {
  QUEUED: 'En attente',
  RUNNING: 'En cours',
  COMPLETED: 'Terminé',
  FAILED: 'Échoué',
  CANCELLED: 'Annulé',
  EXPIRED: 'Expiré',
} as const;

export const FINAL_EXPORT_STATUSES: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED']);

const NBSP = '\u00a0';
const NNBSP = '\u202f'; // the French thousands separator

/** "-1234.5" → "-1 234,50 €" (string arithmetic: no float ever rounds a cent). */
export function formatMoney(value: string | null | undefined, currency = '€'): string {
  if (value == null || value === '') return '';
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!m) return value;
  const [, sign, units, dec = ''] = m;
  const grouped = units.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, NNBSP);
  return `${sign}${grouped},${(dec + '00').slice(0, 2)}${NBSP}${currency}`;
}

/** A decimal string without currency: "812.50" → "812,50". */
export function formatDecimal(value: string | null | undefined): string {
  if (value == null || value === '') return '';
  return value.replace('.', ',');
}

/** "2019-01-25" → "25/01/2019". */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : value;
}

/** An instant in the browser's time zone: "02/12/2026 14:05". */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return d.toLocaleString('fr-FR', { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatInt(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, NNBSP);
}

export function formatBytes(n: number | null | undefined): string {
  if (n == null) return '';
  if (n < 1024) return `${n} o`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1).replace('.', ',')} Ko`;
  return `${(n / 1024 / 1024).toFixed(1).replace('.', ',')} Mo`;
}

/** 0..1 → 0..100, whole percent, for aria-valuenow. */
export function percent(progress: number): number {
  return Math.max(0, Math.min(100, Math.round(progress * 100)));
}

/** What a QUEUED export waits for, in words (the page never shows a frozen bar without a reason). */
export function waitingText(e: {
  waitingReason?: string | null;
  queuePosition?: number | null;
  notBefore?: string | null;
  error?: { message: string } | null;
}): string {
  switch (e.waitingReason) {
    case 'TENANT_CONCURRENCY': {
      const ahead = Math.max(0, (e.queuePosition ?? 1) - 1);
      return ahead === 0
        ? "Votre export démarre dès qu'un autre export de votre structure se termine."
        : `${ahead} export${ahead > 1 ? 's' : ''} de votre structure avant le vôtre.`;
    }
    case 'RETRY':
      return `Nouvel essai${e.notBefore ? ` à ${new Date(e.notBefore).toLocaleTimeString('fr-FR')}` : ''} après une erreur passagère${e.error ? ` (${e.error.message})` : ''}.`;
    case 'QUEUE_UNAVAILABLE':
      return "Demande enregistrée : l'export démarrera dès que le service de file d'attente sera de nouveau joignable.";
    case 'WORKER_LOST':
      return 'Le traitement a été interrompu : il reprend depuis le début.';
    default:
      return '';
  }
}
