import { InvoiceType } from '../entities/enums';
import { payerDisplayName } from '../entities/payer.entity';
import { ExportErrorCode, ExportRefusal } from '../errors';
import { formatCents, toCents } from '../money';
import { ACCOUNT_RE, accountLabel, type AccountingSettingsData } from './settings';
import { includedVatCents, rateHundredths, rateKey, rateLabel } from './vat';

/**
 * Invoices and credit notes → journal entries (docs/accounting.md), in integer cents.
 *
 * Every amount is first a signed "debit value": positive goes to Debit,
 * negative to Credit. The receivable takes +amount_due, each revenue and VAT
 * line −(its amount). Credit notes are stored with negative amounts, so
 * their receivable lands on the credit side and their revenue on the debit
 * side, and a negative line (a discount) on the side opposite to its
 * document's, without a rule per type. An entry balances when its debit
 * values add up to zero, which holds whenever the lines add up to
 * amount_due: the check catches data that breaks that invariant.
 */

/**
 * One row of the kind's SELECT: a billing line with its document (line
 * fields null for a document without lines). The document's fields come on
 * its first row only (null on the others: a third of the bytes and strings
 * the worker parses); `invoiceId` is on every row.
 */
export type AccountingSourceRow = {
  invoiceId: string;
  position: number | null;
  label: string | null;
  amount: string | null;
  vatRate: string | null;
  accountingAccount: string | null;
  analyticCode: string | null;
} & (DocumentFields | { [K in keyof DocumentFields]: null });

/** A row with its document's fields: a document's first row (and any row the tests build). */
export type FirstSourceRow = Extract<AccountingSourceRow, DocumentFields>;

/** A document's fields, as its first row carries them. */
export interface DocumentFields {
  type: InvoiceType;
  number: string;
  billingDate: string;
  amountDue: string;
  payerLastName: string;
  payerFirstName: string;
  /** Null when the payer has none (the fallback auxiliary account applies). */
  customerIdentifier: string | null;
}

/** The document of a run of rows: its first row's fields. */
export function documentOf(first: AccountingSourceRow): DocumentFields & { invoiceId: string } {
  if (first.number === null) throw new Error(`The rows of document ${first.invoiceId} do not start with its first line`);
  return first;
}

/** One line of the file: the 18 FEC fields and the analytic code. Dates `yyyy-mm-dd`, amounts decimal strings. */
export interface AccountingEntryLine {
  JournalCode: string;
  JournalLib: string;
  EcritureNum: number;
  EcritureDate: string;
  CompteNum: string;
  CompteLib: string;
  CompAuxNum: string | null;
  CompAuxLib: string | null;
  PieceRef: string;
  PieceDate: string;
  EcritureLib: string;
  Debit: string;
  Credit: string;
  EcritureLet: string | null;
  DateLet: string | null;
  ValidDate: string;
  Montantdevise: string | null;
  Idevise: string | null;
  CodeAnalytique: string | null;
  /** The payer's last name on the receivable line (Quadra's alphabetical key), else null; in no FEC column. */
  payerLastName: string | null;
  /** Debit − Credit in cents (the importer layouts' side and amount, without parsing them back); in no column. */
  signedCents: bigint;
}

export interface EntryContext {
  settings: AccountingSettingsData;
  /** `yyyy-mm-dd`: the day the file is generated, on the tenant's clock. */
  validDate: string;
}

/** What one entry adds to the file's totals. */
export interface BuiltEntry {
  lines: AccountingEntryLine[];
  /** Sum of the debit column, cents. */
  debit: bigint;
  credit: bigint;
  /** Receivable debit − credit: equals the document's signed amount_due. */
  receivable: bigint;
  usedFallbackAccount: boolean;
}

const ZERO = '0.00';

/** A billing line's `accounting_account` as CompteNum writes it: blanks removed, upper-cased; '' when absent (the default account applies). */
export function lineAccount(raw: string | null): string {
  return raw ? raw.replace(/\s+/g, '').toUpperCase() : '';
}

/** A billing line's account as an accounting package accepts it; the default when absent. */
function revenueAccount(raw: string | null, settings: AccountingSettingsData, doc: DocumentFields): string {
  const account = lineAccount(raw);
  if (!account) return settings.defaultRevenueAccount;
  if (!ACCOUNT_RE.test(account)) {
    throw new ExportRefusal(ExportErrorCode.INVALID_ACCOUNT, `The ${doc.type === InvoiceType.CREDIT_NOTE ? 'credit note' : 'invoice'} ${doc.number} has a billing line with the accounting account ${JSON.stringify(raw)}, which is not 1 to 20 characters among 0-9 and A-Z`, 'CompteNum');
  }
  return account;
}

/** The entry of one document: `rows` are its billing lines in position order (one row with null line fields if it has none); the document's fields are read from the first. */
export function buildEntry(ecritureNum: number, rows: readonly AccountingSourceRow[], ctx: EntryContext): BuiltEntry {
  const doc = documentOf(rows[0]);
  const { settings } = ctx;
  const payer = payerDisplayName(doc.payerLastName, doc.payerFirstName);
  const usedFallbackAccount = !doc.customerIdentifier;
  const lines: AccountingEntryLine[] = [];
  let debit = 0n;
  let credit = 0n;
  // One literal with every field, in one shape: spreading a base object made
  // each line a slow dictionary-mode object (3× the time of the whole export).
  const push = (account: string, value: bigint, lib: string, aux: { num: string; lib: string } | null, analytic: string | null) => {
    if (value > 0n) debit += value;
    else credit -= value;
    lines.push({
      JournalCode: settings.journalCode,
      JournalLib: settings.journalLabel,
      EcritureNum: ecritureNum,
      EcritureDate: doc.billingDate,
      CompteNum: account,
      CompteLib: accountLabel(settings, account),
      CompAuxNum: aux === null ? null : aux.num,
      CompAuxLib: aux === null ? null : aux.lib,
      PieceRef: doc.number,
      PieceDate: doc.billingDate,
      EcritureLib: lib,
      Debit: value > 0n ? formatCents(value) : ZERO,
      Credit: value < 0n ? formatCents(-value) : ZERO,
      EcritureLet: null,
      DateLet: null,
      ValidDate: ctx.validDate,
      Montantdevise: null,
      Idevise: null,
      CodeAnalytique: analytic,
      payerLastName: aux === null ? null : doc.payerLastName,
      signedCents: value,
    });
  };

  const receivable = toCents(doc.amountDue);
  const kindLabel = doc.type === InvoiceType.CREDIT_NOTE ? 'Avoir' : 'Facture';
  push(settings.receivableAccount, receivable, `${kindLabel} ${doc.number} ${payer}`,
    { num: doc.customerIdentifier || settings.fallbackAuxiliaryAccount, lib: payer }, null);

  // VAT per rate, in the order the rates first appear on the document.
  const vatByRate = new Map<string, bigint>();
  for (const row of rows) {
    if (row.amount === null) continue;
    const amount = toCents(row.amount);
    if (amount === 0n) continue;
    const rate = rateHundredths(row.vatRate ?? '0');
    const vat = includedVatCents(amount, rate);
    if (rate > 0n) {
      const key = rateKey(rate);
      vatByRate.set(key, (vatByRate.get(key) ?? 0n) + vat);
    }
    const net = amount - vat;
    if (net !== 0n) push(revenueAccount(row.accountingAccount, settings, doc), -net, row.label?.trim() || `${kindLabel} ${doc.number}`, null, row.analyticCode);
  }
  for (const [key, vat] of vatByRate) {
    if (vat === 0n) continue;
    const account = settings.vatAccounts[key];
    if (!account) {
      throw new ExportRefusal(ExportErrorCode.VAT_ACCOUNT_MISSING, `No VAT account for the rate ${rateLabel(key)} % (document ${doc.number}): set vatAccounts["${key}"] in the accounting settings`, `vatAccounts["${key}"]`);
    }
    push(account, -vat, `TVA ${rateLabel(key)} %`, null, null);
  }
  if (debit !== credit) {
    throw new ExportRefusal(
      ExportErrorCode.UNBALANCED_ENTRIES,
      `The entry of ${kindLabel.toLowerCase()} ${doc.number} does not balance (debit ${formatCents(debit)}, credit ${formatCents(credit)}): ` +
        `its billing lines add up to ${formatCents(credit - debit + receivable)} but its amount due is ${formatCents(receivable)}. Nothing was exported.`,
    );
  }
  return { lines, debit, credit, receivable, usedFallbackAccount };
}
