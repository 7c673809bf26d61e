import { randomBytes } from 'node:crypto';
import { BillingPeriod, InvoiceStatus, InvoiceType, PaymentMethod } from '../../src/entities/enums';
import { formatCents } from '../../src/money';
import * as C from './catalogue';
import { deriveSeed, Rng } from './random';

/**
 * The seed's data, generated without touching the database: a pure function
 * of (number of invoices, seed). Ids are the only thing that differs between
 * two plans with the same arguments (see IdSequence).
 *
 * Two passes. The first lays out every invoice's skeleton (year, period,
 * billing date, payer) in a few typed arrays, sorts it by billing date so that
 * numbers grow with dates, and decides which invoices a later credit note
 * cancels. The second streams the content (lines, amounts, statuses) chunk by
 * chunk, so memory stays small whatever the size.
 *
 * Money is integer cents in BigInt from the catalogue to the decimal strings
 * written to PostgreSQL; an invoice's amount_due is the sum of its lines.
 */

export interface GeneratedPayer {
  id: string;
  lastName: string;
  firstName: string;
  customerIdentifier: string | null;
  familyQuotient: string | null;
  email: string | null;
}

export interface GeneratedInvoice {
  id: string;
  type: InvoiceType;
  number: string;
  billingDate: string;
  roleNumber: number | null;
  payerId: string;
  billingPeriod: BillingPeriod;
  billingYear: string;
  notes: string | null;
  amountDue: string;
  amountPaid: string;
  remainingDue: string;
  pendingCollection: string;
  status: InvoiceStatus;
  uniqueIdentifier: string | null;
  paymentMethod: PaymentMethod | null;
  creditedInvoiceId: string | null;
  /** When the secretary issued it: the billing date during office hours, Paris time. */
  createdAt: string;
}

export interface GeneratedLine {
  id: string;
  invoiceId: string;
  position: number;
  label: string;
  beneficiary: string | null;
  activity: string | null;
  quantity: string;
  unitPrice: string;
  discountAmount: string;
  amount: string;
  vatRate: string;
  accountingAccount: string | null;
  analyticCode: string | null;
}

export interface GeneratedChunk {
  invoices: GeneratedInvoice[];
  lines: GeneratedLine[];
}

export interface PlanOptions {
  invoices: number;
  seed: number;
}

/**
 * Ids of one kind of row in one plan: a random prefix (74 random bits, the
 * version-4 and variant bits set) followed by a 48-bit counter. Unique across
 * plans like random UUIDs, but increasing within a plan, so that PostgreSQL
 * appends to its indexes instead of touching random pages: a third faster to
 * insert, and iterating a plan twice gives the same ids.
 */
class IdSequence {
  private readonly prefix: string;

  constructor() {
    const b = randomBytes(10);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString('hex');
    this.prefix = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-`;
  }

  /** n >= 1 */
  id(n: number): string {
    return this.prefix + n.toString(16).padStart(12, '0');
  }
}

// ---------------------------------------------------------------- calendar

interface BillingYear {
  label: string;
  /** Calendar-year billing (the school's early years) or a school year starting in September. */
  calendar: boolean;
  start: number;
  weight: number;
}

/** The school billed by calendar year until 2016, then by school year; it grows every year. */
export const BILLING_YEARS: readonly BillingYear[] = [
  { label: '2015', calendar: true, start: 2015, weight: 4 },
  { label: '2016', calendar: true, start: 2016, weight: 5 },
  ...Array.from({ length: 9 }, (_, k) => ({ label: `${2016 + k}/${2017 + k}`, calendar: false, start: 2016 + k, weight: 6 + k })),
];
const YEAR_WEIGHTS = BILLING_YEARS.map((y) => y.weight);
const LAST_YEAR = BILLING_YEARS.length - 1;

const PERIODS = [
  BillingPeriod.ANNUAL,
  BillingPeriod.SEMESTER_1,
  BillingPeriod.SEMESTER_2,
  BillingPeriod.QUARTER_1,
  BillingPeriod.QUARTER_2,
  BillingPeriod.QUARTER_3,
  BillingPeriod.QUARTER_4,
  BillingPeriod.MONTHLY,
] as const;
const ANNUAL = 0, S1 = 1, S2 = 2, Q1 = 3, Q4 = 6, MONTHLY = 7;

/** A family's billing plan decides the periods of its invoices. */
const PLAN_WEIGHTS = [40, 15, 17, 28]; // annual, by semester, by quarter, monthly
const PLAN_MONTHLY = 3;

const DAY_MS = 86_400_000;
const dayOf = (y: number, month0: number, d: number) => Date.UTC(y, month0, d) / DAY_MS;
const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** When each period is billed: school-year windows from September, calendar-year ones from January. */
function billingDay(rng: Rng, year: BillingYear, period: number, month: number): number {
  const y = year.start;
  if (year.calendar) {
    switch (period) {
      case ANNUAL: return dayOf(y, 0, 10) + rng.int(0, 80);
      case S1: return dayOf(y, 0, 5) + rng.int(0, 40);
      case S2: return dayOf(y, 6, 1) + rng.int(0, 90);
      case MONTHLY: return dayOf(y, [0, 1, 2, 3, 4, 5, 8, 9, 10, 11][month], 1) + rng.int(0, 9);
      default: return dayOf(y, (period - Q1) * 3, 1) + rng.int(0, 24);
    }
  }
  switch (period) {
    case ANNUAL: return dayOf(y, 9, 1) + rng.int(0, 59);
    case S1: return dayOf(y, 8, 15) + rng.int(0, 45);
    case S2: return dayOf(y + 1, 0, 15) + rng.int(0, 43);
    case Q1: return dayOf(y, 8, 20) + rng.int(0, 30);
    case Q1 + 1: return dayOf(y + 1, 0, 5) + rng.int(0, 26);
    case Q1 + 2: return dayOf(y + 1, 3, 1) + rng.int(0, 24);
    case Q4: return dayOf(y + 1, 5, 15) + rng.int(0, 25); // summer term: camps
    default: return dayOf(month < 4 ? y : y + 1, (8 + month) % 12, 1) + rng.int(0, 9); // September..June
  }
}

function divisor(year: BillingYear, period: number): bigint {
  if (period === ANNUAL) return 1n;
  if (period === MONTHLY) return 10n;
  if (period <= S2) return 2n;
  return year.calendar ? 4n : 3n;
}

// ---------------------------------------------------------------- money

/** a / b rounded half away from zero, as PostgreSQL's round() does; b > 0. */
function roundDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  if (2n * (r < 0n ? -r : r) >= b) return a < 0n ? q - 1n : q + 1n;
  return q;
}

/** Thousandths → "1.000", "-0.500". */
function formatQuantity(milli: bigint): string {
  const neg = milli < 0n;
  const abs = neg ? -milli : milli;
  return `${neg ? '-' : ''}${abs / 1000n}.${(abs % 1000n).toString().padStart(3, '0')}`;
}

interface Line {
  label: string;
  beneficiary: string | null;
  activity: string | null;
  quantity: bigint; // thousandths
  unitPrice: bigint; // cents
  discount: bigint; // cents
  amount: bigint; // cents: round(quantity × unit price) − discount
  vatRate: string;
  accountingAccount: string | null;
  analyticCode: string | null;
}

function makeLine(item: C.CatalogueItem, beneficiary: string | null, quantity: bigint, unitPrice: bigint, discountPercent = 0n): Line {
  const gross = roundDiv(quantity * unitPrice, 1000n);
  const discount = roundDiv(gross * discountPercent, 100n);
  return {
    label: item.label,
    beneficiary,
    activity: item.activity,
    quantity,
    unitPrice,
    discount,
    amount: gross - discount,
    vatRate: item.vatRate,
    accountingAccount: item.accountingAccount,
    analyticCode: item.analyticCode,
  };
}

/** The same service credited: quantity kept, price, discount and amount negated, so the line still adds up. */
function negateLine(l: Line): Line {
  return { ...l, unitPrice: -l.unitPrice, discount: -l.discount, amount: -l.amount };
}

/** Tariffs rise about 2 % a year, rounded to the euro. */
function annualTariff(item: C.CatalogueItem, yearIndex: number): bigint {
  return roundDiv(item.priceCents * BigInt(100 + 2 * yearIndex), 10_000n) * 100n;
}

// ---------------------------------------------------------------- people

interface Pupil {
  display: string;
  course: C.CatalogueItem;
  theory: C.CatalogueItem | null;
  ensemble: C.CatalogueItem | null;
  rental: C.CatalogueItem | null;
}

interface PayerProfile {
  row: GeneratedPayer;
  pupils: Pupil[];
  plan: number;
  method: PaymentMethod;
  /** Reduced tariff from the family quotient, in percent. */
  qfPercent: bigint;
}

const METHODS = [
  PaymentMethod.CHEQUE,
  PaymentMethod.DIRECT_DEBIT,
  PaymentMethod.BANK_TRANSFER,
  PaymentMethod.CARD,
  PaymentMethod.CASH,
  PaymentMethod.HOLIDAY_VOUCHER,
  PaymentMethod.OTHER,
];
const METHOD_WEIGHTS = [34, 12, 18, 16, 7, 8, 5];

/** "Anne-Sophie" + "D'ALMEIDA" → "anne-sophie.dalmeida": ASCII for e-mail addresses. */
function emailPart(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');
}

function makePupil(rng: Rng, display: string, adult: boolean): Pupil {
  if (!adult && rng.chance(0.14)) {
    return { display, course: C.EARLY_YEARS, theory: null, ensemble: rng.chance(0.2) ? C.ENSEMBLES[1] : null, rental: null };
  }
  const course = C.COURSES[rng.weighted(C.COURSE_WEIGHTS)];
  const theory = adult
    ? rng.chance(0.35) ? C.MUSIC_THEORY[2] : null
    : rng.chance(0.85) ? C.MUSIC_THEORY[rng.chance(0.7) ? 0 : 1] : null;
  const ensemble = rng.chance(adult ? 0.2 : 0.32) ? C.ENSEMBLES[rng.int(0, C.ENSEMBLES.length - 1)] : null;
  const rentable = course.activity ? C.RENTALS[course.activity] : undefined;
  const rental = rentable && !adult && rng.chance(0.4) ? rentable : null;
  return { display, course, theory, ensemble, rental };
}

function makePayers(rng: Rng, count: number, ids: IdSequence): PayerProfile[] {
  const payers: PayerProfile[] = [];
  let customerNo = rng.int(1, 400);
  for (let i = 0; i < count; i++) {
    const lastName = rng.pick(C.LAST_NAMES);
    const firstName = rng.pick(C.PARENT_FIRST_NAMES);

    let customerIdentifier: string | null = null;
    if (rng.chance(0.85)) {
      customerNo += rng.int(1, 3);
      // Digits with leading zeros (as accounting software pads them), or a prefixed code.
      customerIdentifier = rng.chance(0.75) ? String(customerNo).padStart(6, '0') : `C${String(customerNo).padStart(5, '0')}`;
    }
    let familyQuotient: string | null = null;
    let qfPercent = 0n;
    if (rng.chance(0.4)) {
      const cents = BigInt(rng.int(300, 2600)) * 100n + (rng.chance(0.5) ? BigInt(rng.int(0, 99)) : 0n);
      familyQuotient = formatCents(cents);
      qfPercent = cents < 50_000n ? 30n : cents < 70_000n ? 20n : cents < 90_000n ? 10n : 0n;
    }
    let email: string | null = null;
    if (rng.chance(0.6)) {
      const domain = rng.pick(C.EMAIL_DOMAINS);
      email = rng.chance(0.7)
        ? `${emailPart(firstName)}.${emailPart(lastName)}@${domain}`
        : `${emailPart(firstName).slice(0, 1)}${emailPart(lastName)}${rng.int(1, 99)}@${domain}`;
    }

    const pupils: Pupil[] = [];
    if (rng.chance(0.12)) {
      pupils.push(makePupil(rng, `${lastName} ${firstName}`, true)); // an adult learner pays for themself
    } else {
      const children = 1 + rng.weighted([55, 32, 13]);
      const used = new Set<string>();
      for (let k = 0; k < children; k++) {
        let first = rng.pick(C.PUPIL_FIRST_NAMES);
        while (used.has(first)) first = rng.pick(C.PUPIL_FIRST_NAMES);
        used.add(first);
        // Now and then a child carries the other parent's name.
        const last = rng.chance(0.08) ? rng.pick(C.LAST_NAMES) : lastName;
        pupils.push(makePupil(rng, `${last} ${first}`, false));
      }
    }

    const plan = rng.weighted(PLAN_WEIGHTS);
    const method = plan === PLAN_MONTHLY && rng.chance(0.7) ? PaymentMethod.DIRECT_DEBIT : METHODS[rng.weighted(METHOD_WEIGHTS)];
    payers.push({ row: { id: ids.id(i + 1), lastName, firstName, customerIdentifier, familyQuotient, email }, pupils, plan, method, qfPercent });
  }
  return payers;
}

function periodForPlan(rng: Rng, plan: number): number {
  switch (plan) {
    case 0: return ANNUAL;
    case 1: return rng.chance(0.5) ? S1 : S2;
    case 2: return Q1 + rng.weighted([30, 30, 28, 12]);
    default: return MONTHLY;
  }
}

/** A SIREN is 9 digits whose Luhn checksum is valid. */
function siren(rng: Rng): string {
  const digits = [rng.int(1, 9), ...Array.from({ length: 7 }, () => rng.int(0, 9))];
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    // Positions counted from the right once the check digit is appended: even ones are doubled.
    let d = digits[i];
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.join('') + String((10 - (sum % 10)) % 10);
}

// ---------------------------------------------------------------- statuses

const STATUS_ORDER = [InvoiceStatus.TO_COLLECT, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID, InvoiceStatus.SETTLED];
/** Recent invoices are still being collected; old ones are paid or written off. */
const STATUS_WEIGHTS_BY_AGE = [
  [30, 20, 47, 3],
  [4, 4, 86, 6],
  [1, 1, 91, 7],
];

const NO_CREDIT = 0, FULL_CREDIT = 1, PARTIAL_CREDIT = 2;

interface PendingCredit {
  invoiceId: string;
  number: string;
  lines: Line[];
}

// ---------------------------------------------------------------- the plan

export function checkPlanOptions(opts: PlanOptions): void {
  if (!Number.isSafeInteger(opts.invoices) || opts.invoices < 0) throw new RangeError(`invoices must be a non-negative integer (got ${opts.invoices})`);
  if (!Number.isSafeInteger(opts.seed)) throw new RangeError(`seed must be an integer (got ${opts.seed})`);
}

export class TenantPlan {
  readonly payers: GeneratedPayer[];
  readonly siren: string;
  readonly invoiceCount: number;

  private readonly profiles: PayerProfile[];
  private readonly seed: number;
  private readonly invoiceIds = new IdSequence();
  private readonly lineIds = new IdSequence();
  // Skeleton, indexed by position in billing-date order.
  private readonly yearIx: Uint8Array;
  private readonly periodIx: Uint8Array;
  private readonly monthIx: Uint8Array;
  private readonly day: Float64Array;
  private readonly payerIx: Int32Array;
  /** For a credit note, the position of the invoice it credits; -1 otherwise. */
  private readonly creditOf: Int32Array;
  private readonly creditKind: Uint8Array;

  constructor(opts: PlanOptions) {
    checkPlanOptions(opts);
    const n = opts.invoices;
    this.invoiceCount = n;
    this.seed = opts.seed;

    const peopleRng = new Rng(deriveSeed(opts.seed, 'payers'));
    this.siren = siren(peopleRng);
    this.profiles = makePayers(peopleRng, Math.max(3, Math.round(n / 3)), new IdSequence());
    this.payers = this.profiles.map((p) => p.row);

    // Families stay a few years: who is billed in which year.
    const rng = new Rng(deriveSeed(opts.seed, 'skeleton'));
    const active: number[][] = BILLING_YEARS.map(() => []);
    this.profiles.forEach((_, i) => {
      const from = rng.weighted(YEAR_WEIGHTS);
      const to = Math.min(LAST_YEAR, from + rng.int(0, 6));
      for (let y = from; y <= to; y++) active[y].push(i);
    });
    const everyone = this.profiles.map((_, i) => i);

    const yearIx = new Uint8Array(n), periodIx = new Uint8Array(n), monthIx = new Uint8Array(n);
    const day = new Float64Array(n), payerIx = new Int32Array(n);
    // A family is billed once per period: (payer, year, period, month) slots already taken.
    const taken = new Set<number>();
    for (let i = 0; i < n; i++) {
      const y = rng.weighted(YEAR_WEIGHTS);
      const pool = active[y].length ? active[y] : everyone;
      let payer = 0, period = 0, month = 0;
      for (let attempt = 0; attempt < 8; attempt++) {
        payer = pool[rng.int(0, pool.length - 1)];
        period = periodForPlan(rng, this.profiles[payer].plan);
        month = period === MONTHLY ? rng.int(0, 9) : 0;
        const slot = ((payer * 16 + y) * 8 + period) * 10 + month;
        if (!taken.has(slot)) {
          taken.add(slot);
          break;
        }
      }
      yearIx[i] = y;
      periodIx[i] = period;
      monthIx[i] = month;
      payerIx[i] = payer;
      day[i] = billingDay(rng, BILLING_YEARS[y], period, month);
    }

    // Numbers grow with billing dates: sort the skeleton (stable on ties).
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => day[a] - day[b] || a - b);
    this.yearIx = Uint8Array.from(order, (i) => yearIx[i]);
    this.periodIx = Uint8Array.from(order, (i) => periodIx[i]);
    this.monthIx = Uint8Array.from(order, (i) => monthIx[i]);
    this.day = Float64Array.from(order, (i) => day[i]);
    this.payerIx = Int32Array.from(order, (i) => payerIx[i]);

    // About 3 % credit notes, each cancelling (fully or in part) the payer's
    // latest invoice of the past year or so; an invoice is credited once.
    this.creditOf = new Int32Array(n).fill(-1);
    this.creditKind = new Uint8Array(n);
    const latest = new Int32Array(this.profiles.length).fill(-1);
    for (let p = 0; p < n; p++) {
      const payer = this.payerIx[p];
      const j = latest[payer];
      if (j >= 0 && this.day[p] - this.day[j] <= 400 && rng.chance(0.055)) {
        this.creditOf[p] = j;
        this.creditKind[j] = rng.chance(0.6) ? FULL_CREDIT : PARTIAL_CREDIT;
        // A credit note belongs to the billing year and period of what it credits.
        this.yearIx[p] = this.yearIx[j];
        this.periodIx[p] = this.periodIx[j];
        this.monthIx[p] = this.monthIx[j];
        latest[payer] = -1;
      } else {
        latest[payer] = p;
      }
    }
  }

  /** The invoices and their lines in billing-date order, `size` invoices at a time; the same at every iteration. */
  *chunks(size = 5000): Generator<GeneratedChunk> {
    const rng = new Rng(deriveSeed(this.seed, 'content'));
    const pending = new Map<number, PendingCredit>();
    let invoiceNo = 100_000;
    let creditNo = 0;
    let uniqueId = 39_800;
    let lineNo = 0;
    let chunk: GeneratedChunk = { invoices: [], lines: [] };

    for (let p = 0; p < this.invoiceCount; p++) {
      const profile = this.profiles[this.payerIx[p]];
      const year = BILLING_YEARS[this.yearIx[p]];
      const period = this.periodIx[p];
      const id = this.invoiceIds.id(p + 1);
      const billingDate = isoDay(this.day[p]);
      const createdAt = `${billingDate} ${String(rng.int(8, 18)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')} Europe/Paris`;

      let type: InvoiceType;
      let number: string;
      let lines: Line[];
      let status: InvoiceStatus;
      let paid = 0n;
      let remaining = 0n;
      let pendingCollection = 0n;
      let method: PaymentMethod | null = null;
      let notes: string | null;
      let roleNumber: number | null = null;
      let uniqueIdentifier: string | null = null;
      let creditedInvoiceId: string | null = null;

      const credited = this.creditOf[p];
      if (credited >= 0) {
        const credit = pending.get(credited)!;
        pending.delete(credited);
        type = InvoiceType.CREDIT_NOTE;
        number = `A${String(++creditNo).padStart(6, '0')}`;
        lines = credit.lines;
        creditedInvoiceId = credit.invoiceId;
        notes = `Facture ${credit.number}${rng.pick(C.CREDIT_NOTE_REASONS)}`;
        const due = sum(lines);
        // Mostly offset against the invoice ("Cotisé"); some refunded, some refunds still due.
        switch (rng.weighted([70, 20, 10])) {
          case 0:
            status = InvoiceStatus.SETTLED;
            break;
          case 1:
            status = InvoiceStatus.PAID;
            paid = due;
            method = rng.chance(0.6) ? PaymentMethod.BANK_TRANSFER : PaymentMethod.CHEQUE;
            break;
          default:
            status = InvoiceStatus.TO_COLLECT;
            remaining = due;
        }
      } else {
        type = InvoiceType.INVOICE;
        number = `F${++invoiceNo}`;
        lines = this.invoiceLines(rng, profile, this.yearIx[p], period, this.monthIx[p]);
        const due = sum(lines);
        let kind = this.creditKind[p];
        let creditLines: Line[] = [];
        if (kind === PARTIAL_CREDIT) {
          // One service credited: a positive line smaller than the total, so the rest stays payable.
          const candidates = lines.filter((l) => l.amount > 0n && l.amount < due);
          if (candidates.length) creditLines = [negateLine(rng.pick(candidates))];
          else kind = FULL_CREDIT;
        }
        if (kind === FULL_CREDIT) creditLines = lines.map(negateLine);
        if (kind !== NO_CREDIT) pending.set(p, { invoiceId: id, number, lines: creditLines });

        if (kind === FULL_CREDIT) {
          status = InvoiceStatus.CANCELLED;
          method = rng.chance(0.3) ? profile.method : null;
        } else if (kind === PARTIAL_CREDIT) {
          // What was not credited has been paid; nothing remains.
          status = InvoiceStatus.SETTLED;
          paid = due + creditLines[0].amount;
          method = profile.method;
        } else {
          const age = Math.min(2, LAST_YEAR - this.yearIx[p]);
          status = STATUS_ORDER[rng.weighted(STATUS_WEIGHTS_BY_AGE[age])];
          if (status === InvoiceStatus.PARTIALLY_PAID && due < 3n) status = InvoiceStatus.PAID;
          const directDebit = profile.method === PaymentMethod.DIRECT_DEBIT;
          switch (status) {
            case InvoiceStatus.TO_COLLECT:
              remaining = due;
              method = directDebit || rng.chance(0.4) ? profile.method : null;
              // Direct debits are scheduled: the next instalment (or the whole month) awaits collection.
              if (directDebit && rng.chance(0.8)) pendingCollection = period === MONTHLY ? due : roundDiv(due, 3n);
              break;
            case InvoiceStatus.PARTIALLY_PAID:
              paid = roundDiv(due * BigInt(rng.int(1, 2)), 3n);
              remaining = due - paid;
              method = rng.chance(0.85) ? profile.method : METHODS[rng.weighted(METHOD_WEIGHTS)];
              if (method === PaymentMethod.DIRECT_DEBIT && rng.chance(0.8)) pendingCollection = remaining < roundDiv(due, 3n) ? remaining : roundDiv(due, 3n);
              break;
            case InvoiceStatus.PAID:
              paid = due;
              method = rng.chance(0.85) ? profile.method : METHODS[rng.weighted(METHOD_WEIGHTS)];
              break;
            default:
              // SETTLED ("Cotisé"): balanced without full payment (offset, small balance written off).
              paid = rng.chance(0.4) ? 0n : due - roundDiv(due * BigInt(rng.int(1, 30)), 100n);
              method = paid > 0n ? profile.method : null;
          }
        }
        if (rng.chance(period === MONTHLY ? 0.35 : 0.6)) roleNumber = 200 + this.yearIx[p] * 100 + period * 10 + this.monthIx[p];
        if (rng.chance(0.7)) uniqueIdentifier = String((uniqueId += rng.int(1, 6)));
        notes = this.invoiceNotes(rng, lines);
      }

      chunk.invoices.push({
        id,
        type,
        number,
        billingDate,
        roleNumber,
        payerId: profile.row.id,
        billingPeriod: PERIODS[period],
        billingYear: year.label,
        notes,
        amountDue: formatCents(sum(lines)),
        amountPaid: formatCents(paid),
        remainingDue: formatCents(remaining),
        pendingCollection: formatCents(pendingCollection),
        status,
        uniqueIdentifier,
        paymentMethod: method,
        creditedInvoiceId,
        createdAt,
      });
      lines.forEach((l, k) =>
        chunk.lines.push({
          id: this.lineIds.id(++lineNo),
          invoiceId: id,
          position: k + 1,
          label: l.label,
          beneficiary: l.beneficiary,
          activity: l.activity,
          quantity: formatQuantity(l.quantity),
          unitPrice: formatCents(l.unitPrice),
          discountAmount: formatCents(l.discount),
          amount: formatCents(l.amount),
          vatRate: l.vatRate,
          accountingAccount: l.accountingAccount,
          analyticCode: l.analyticCode,
        }),
      );
      if (chunk.invoices.length >= size) {
        yield chunk;
        chunk = { invoices: [], lines: [] };
      }
    }
    if (chunk.invoices.length) yield chunk;
  }

  /** 1 to 6 lines: membership, each pupil's lessons, an extra, family discounts. */
  private invoiceLines(rng: Rng, payer: PayerProfile, yearIndex: number, period: number, month: number): Line[] {
    const year = BILLING_YEARS[yearIndex];
    const div = divisor(year, period);
    const unit = (item: C.CatalogueItem) => roundDiv(annualTariff(item, yearIndex), div);
    const firstOfYear = period === ANNUAL || period === S1 || period === Q1 || (period === MONTHLY && month === 0);
    const summer = period === Q4 && !year.calendar;
    const pupils = payer.pupils;

    const lines: Line[] = [];
    const membership = firstOfYear && rng.chance(0.75);
    if (membership) lines.push(makeLine(C.MEMBERSHIP, null, 1000n, annualTariff(C.MEMBERSHIP, yearIndex)));
    // Every pupil's main line and the family discounts always fit; the rest takes the room left.
    let room = 6 - lines.length - pupils.length - (pupils.length - 1);

    const mainLines: Line[] = [];
    for (const pupil of pupils) {
      let main: Line;
      if (summer) {
        main = makeLine(C.SUMMER_CAMP_DAY, pupil.display, BigInt(rng.int(3, 5)) * 1000n, C.SUMMER_CAMP_DAY.priceCents);
        main.activity = pupil.course.activity ?? main.activity;
      } else {
        // Joined mid-year: half the annual tariff.
        const quantity = period === ANNUAL && rng.chance(0.05) ? 500n : 1000n;
        main = makeLine(pupil.course, pupil.display, quantity, unit(pupil.course), payer.qfPercent);
      }
      lines.push(main);
      mainLines.push(main);
      if (summer) continue;
      if (pupil.theory && room > 0) {
        lines.push(makeLine(pupil.theory, pupil.display, 1000n, unit(pupil.theory), payer.qfPercent));
        room--;
      }
      if (pupil.ensemble && room > 0 && rng.chance(0.9)) {
        lines.push(makeLine(pupil.ensemble, pupil.display, 1000n, unit(pupil.ensemble)));
        room--;
      }
      if (pupil.rental && room > 0) {
        lines.push(makeLine(pupil.rental, pupil.display, 1000n, unit(pupil.rental)));
        room--;
      }
    }

    if (room > 0 && !summer) {
      const first = pupils[0];
      const r = rng.next();
      if (r < 0.03) {
        const hours = rng.pick([10_000n, 10_000n, 5_000n, 2_500n]);
        const extra = makeLine(C.EXTRA_LESSON_HOUR, first.display, hours, C.EXTRA_LESSON_HOUR.priceCents);
        extra.activity = first.course.activity;
        lines.push(extra);
      } else if (r < 0.06) {
        lines.push(makeLine(C.SHEET_MUSIC, first.display, BigInt(rng.int(1, 3)) * 1000n, C.SHEET_MUSIC.priceCents));
      } else if (r < 0.08 && firstOfYear) {
        lines.push(makeLine(C.FILE_FEE, null, 1000n, annualTariff(C.FILE_FEE, yearIndex)));
      }
    }

    for (let k = 1; k < pupils.length; k++) {
      const d = C.FAMILY_DISCOUNTS[k - 1];
      const off = roundDiv(mainLines[k].amount * d.percent, 100n);
      lines.push({
        label: d.label,
        beneficiary: pupils[k].display,
        activity: null,
        quantity: 1000n,
        unitPrice: -off,
        discount: 0n,
        amount: -off,
        vatRate: '0.00',
        accountingAccount: C.DISCOUNT_ACCOUNT,
        analyticCode: null,
      });
    }
    return lines;
  }

  private invoiceNotes(rng: Rng, lines: Line[]): string | null {
    const r = rng.next();
    if (r < 0.06) return null;
    if (r < 0.08) return rng.pick(C.STANDALONE_NOTES);
    const pupils: string[] = [];
    for (const l of lines) if (l.beneficiary && !pupils.includes(l.beneficiary)) pupils.push(l.beneficiary);
    if (!pupils.length) return null;
    const remark = r > 0.92 ? rng.pick(C.INVOICE_REMARKS) : '';
    return `Élèves ${pupils.join(', ')}${remark}`;
  }
}

function sum(lines: readonly Line[]): bigint {
  let total = 0n;
  for (const l of lines) total += l.amount;
  return total;
}
