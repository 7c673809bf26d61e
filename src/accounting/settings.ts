import { ExportFormat } from '../entities/enums';
import { badInput } from '../errors';
import type { Queryable } from '../db/sql';

/**
 * A tenant's accounting settings (docs/accounting.md), one row of
 * `tenant_accounting_settings`; the defaults when the tenant has none.
 */
export interface AccountingSettingsData {
  journalCode: string;
  journalLabel: string;
  receivableAccount: string;
  defaultRevenueAccount: string;
  /** rate as numeric(5,2) prints it (`"20.00"`) → account */
  vatAccounts: Record<string, string>;
  /** account → label */
  accountLabels: Record<string, string>;
  fallbackAuxiliaryAccount: string;
  /** `MM-DD` */
  fiscalYearEnd: string;
  /** The accountant's software: its format is the default of the accounting export (docs/accounting.md). */
  accountingSoftware: AccountingSoftware;
  /** XIMPORT amounts with a decimal comma instead of a point (docs/accounting.md). */
  ximportDecimalComma: boolean;
  /** QUADRA C records ask for a partial update of an existing account (pos 217 `2`), else blank. */
  quadraUpdateExistingAccounts: boolean;
}

/** What `accountingSoftware` may name: the FEC or one of the importer layouts. */
export const ACCOUNTING_SOFTWARE = [ExportFormat.FEC, ExportFormat.QUADRA, ExportFormat.XIMPORT, ExportFormat.EBP, ExportFormat.CEGID, ExportFormat.SAGE100] as const;
export type AccountingSoftware = (typeof ACCOUNTING_SOFTWARE)[number];

export const DEFAULT_ACCOUNTING_SETTINGS: Readonly<AccountingSettingsData> = Object.freeze({
  journalCode: 'VT',
  journalLabel: 'Ventes',
  receivableAccount: '411000',
  defaultRevenueAccount: '706000',
  vatAccounts: { '20.00': '445710', '10.00': '445712', '5.50': '445711', '2.10': '445713' },
  accountLabels: {},
  fallbackAuxiliaryAccount: 'DIVERS',
  fiscalYearEnd: '12-31',
  accountingSoftware: ExportFormat.FEC,
  ximportDecimalComma: false,
  quadraUpdateExistingAccounts: true,
});

/** Labels an account gets when the settings name none. */
const DEFAULT_LABELS: Readonly<Record<string, string>> = { '411000': 'Clients', '706000': 'Prestations de services' };

/** `CompteLib`: the settings' label, else the defaults (`4457…` TVA collectée), else `Compte <n>`. */
export function accountLabel(settings: AccountingSettingsData, account: string): string {
  return settings.accountLabels[account] ?? DEFAULT_LABELS[account] ?? (account.startsWith('4457') ? 'TVA collectée' : `Compte ${account}`);
}

const COLUMNS = `journal_code AS "journalCode", journal_label AS "journalLabel", receivable_account AS "receivableAccount",
  default_revenue_account AS "defaultRevenueAccount", vat_accounts AS "vatAccounts", account_labels AS "accountLabels",
  fallback_auxiliary_account AS "fallbackAuxiliaryAccount", fiscal_year_end AS "fiscalYearEnd",
  accounting_software AS "accountingSoftware", ximport_decimal_comma AS "ximportDecimalComma",
  quadra_update_existing_accounts AS "quadraUpdateExistingAccounts"`;

export async function loadAccountingSettings(db: Queryable, tenantId: string): Promise<AccountingSettingsData> {
  const result = await db.query(`SELECT ${COLUMNS} FROM tenant_accounting_settings WHERE tenant_id = $1`, [tenantId]);
  // A pg client answers { rows }, a TypeORM DataSource or EntityManager the rows themselves.
  const rows: AccountingSettingsData[] = Array.isArray(result) ? result : result.rows;
  const row = rows[0];
  if (!row) return { ...DEFAULT_ACCOUNTING_SETTINGS, vatAccounts: { ...DEFAULT_ACCOUNTING_SETTINGS.vatAccounts }, accountLabels: {} };
  return { ...row, vatAccounts: row.vatAccounts ?? {}, accountLabels: row.accountLabels ?? {} };
}

/** A change to the settings: each given field replaces the stored one (maps as a whole). */
export type AccountingSettingsPatch = Partial<AccountingSettingsData>;

export const ACCOUNT_RE = /^[0-9A-Z]{1,20}$/;
const RATE_KEY_RE = /^\d{1,3}\.\d{2}$/;
const MAX_LABEL = 100;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Every problem of a patch, each naming its field; empty when it is valid. */
export function accountingSettingsProblems(patch: AccountingSettingsPatch): string[] {
  const problems: string[] = [];
  const account = (field: string, v: unknown) => {
    if (typeof v !== 'string' || !ACCOUNT_RE.test(v)) {
      problems.push(`${field} must be 1 to 20 characters among 0-9 and A-Z (got ${JSON.stringify(v)})`);
    }
  };
  const label = (field: string, v: unknown) => {
    if (typeof v !== 'string' || !v.trim() || v.length > MAX_LABEL || /[\t\r\n|]/.test(v)) {
      problems.push(`${field} must be 1 to ${MAX_LABEL} characters, without tab, line break or "|" (got ${JSON.stringify(v)})`);
    }
  };
  if (patch.journalCode !== undefined) account('journalCode', patch.journalCode);
  if (patch.journalLabel !== undefined) label('journalLabel', patch.journalLabel);
  if (patch.receivableAccount !== undefined) account('receivableAccount', patch.receivableAccount);
  if (patch.defaultRevenueAccount !== undefined) account('defaultRevenueAccount', patch.defaultRevenueAccount);
  if (patch.fallbackAuxiliaryAccount !== undefined) account('fallbackAuxiliaryAccount', patch.fallbackAuxiliaryAccount);
  if (patch.vatAccounts !== undefined) {
    for (const [rate, acc] of Object.entries(patch.vatAccounts)) {
      if (!RATE_KEY_RE.test(rate) || Number(rate.replace('.', '')) <= 0) {
        problems.push(`vatAccounts: the rate ${JSON.stringify(rate)} must be written like "20.00" or "5.50" (two decimals, above 0)`);
      }
      account(`vatAccounts["${rate}"]`, acc);
    }
  }
  if (patch.accountLabels !== undefined) {
    for (const [acc, text] of Object.entries(patch.accountLabels)) {
      account(`accountLabels: the account ${JSON.stringify(acc)}`, acc);
      label(`accountLabels["${acc}"]`, text);
    }
  }
  if (patch.accountingSoftware !== undefined && !(ACCOUNTING_SOFTWARE as readonly string[]).includes(patch.accountingSoftware)) {
    problems.push(`accountingSoftware must be one of ${ACCOUNTING_SOFTWARE.join(', ')} (got ${JSON.stringify(patch.accountingSoftware)})`);
  }
  for (const flag of ['ximportDecimalComma', 'quadraUpdateExistingAccounts'] as const) {
    if (patch[flag] !== undefined && typeof patch[flag] !== 'boolean') problems.push(`${flag} must be true or false`);
  }
  if (patch.fiscalYearEnd !== undefined) {
    const m = /^(\d{2})-(\d{2})$/.exec(patch.fiscalYearEnd);
    const month = m ? Number(m[1]) : 0;
    const day = m ? Number(m[2]) : 0;
    if (!m || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]) {
      problems.push(`fiscalYearEnd must be a day that exists every year, as MM-DD (e.g. "12-31", "08-31"; got ${JSON.stringify(patch.fiscalYearEnd)})`);
    }
  }
  return problems;
}

/** Validates (BAD_USER_INPUT naming every wrong field) and stores; returns the settings now in force. */
export async function updateAccountingSettings(db: Queryable, tenantId: string, patch: AccountingSettingsPatch): Promise<AccountingSettingsData> {
  const problems = accountingSettingsProblems(patch);
  if (problems.length) throw badInput(`Invalid accounting settings: ${problems.join('; ')}`, { problems });
  const next = { ...(await loadAccountingSettings(db, tenantId)), ...definedFields(patch) };
  await db.query(
    `INSERT INTO tenant_accounting_settings (tenant_id, journal_code, journal_label, receivable_account, default_revenue_account,
       vat_accounts, account_labels, fallback_auxiliary_account, fiscal_year_end,
       accounting_software, ximport_decimal_comma, quadra_update_existing_accounts, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11, $12, now())
     ON CONFLICT (tenant_id) DO UPDATE SET journal_code = EXCLUDED.journal_code, journal_label = EXCLUDED.journal_label,
       receivable_account = EXCLUDED.receivable_account, default_revenue_account = EXCLUDED.default_revenue_account,
       vat_accounts = EXCLUDED.vat_accounts, account_labels = EXCLUDED.account_labels,
       fallback_auxiliary_account = EXCLUDED.fallback_auxiliary_account, fiscal_year_end = EXCLUDED.fiscal_year_end,
       accounting_software = EXCLUDED.accounting_software, ximport_decimal_comma = EXCLUDED.ximport_decimal_comma,
       quadra_update_existing_accounts = EXCLUDED.quadra_update_existing_accounts, updated_at = now()`,
    [tenantId, next.journalCode, next.journalLabel, next.receivableAccount, next.defaultRevenueAccount,
      JSON.stringify(next.vatAccounts), JSON.stringify(next.accountLabels), next.fallbackAuxiliaryAccount, next.fiscalYearEnd,
      next.accountingSoftware, next.ximportDecimalComma, next.quadraUpdateExistingAccounts],
  );
  return next;
}

function definedFields(patch: AccountingSettingsPatch): AccountingSettingsPatch {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined && v !== null)) as AccountingSettingsPatch;
}

/**
 * End of the fiscal year that holds `date` (`yyyy-mm-dd`), as `yyyymmdd`:
 * with `fiscalYearEnd` 08-31, 2026-09-15 → 20270831, 2026-08-31 → 20260831.
 */
export function fiscalYearEndOf(date: string, fiscalYearEnd: string): string {
  const year = Number(date.slice(0, 4));
  const mmdd = fiscalYearEnd.replace('-', '');
  const end = date.slice(5, 7) + date.slice(8, 10) <= mmdd ? year : year + 1;
  return `${end}${mmdd}`;
}

/** A SIREN passes the Luhn check (9 digits, every second one from the right doubled). */
export function sirenPassesLuhn(siren: string): boolean {
  if (!/^\d{9}$/.test(siren)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) {
    let d = siren.charCodeAt(8 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
