import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { loadAccountingSettings, updateAccountingSettings, type AccountingSettingsData, type AccountingSettingsPatch } from '../../accounting/settings';
import { revertAccountingTransfer } from '../../accounting/transfers';
import { AuditAction, AuditTarget, recordAudit } from '../../audit/audit';
import { changedFields } from '../../audit/details';
import { Invoice } from '../../entities';
import { Role } from '../../entities/enums';
import { InvoiceExport } from '../../entities/invoice-export.entity';
import { badInput, forbidden } from '../../errors';
import { ApiContext, assertCanExport } from '../context';
import { describeProblem, type LayoutProblem } from '../../accounting/layouts/problems';
import { ExportFormat } from '../../entities/enums';
import { AccountingExportCheck, AccountingExportProblem, AccountingSettings, AccountingSettingsInput } from './types/accounting.input';
import { InvoiceSelection } from './types/export.input';

const withMessage = (p: LayoutProblem): AccountingExportProblem => ({ ...p, message: describeProblem(p) });

function toGraphql(s: AccountingSettingsData): AccountingSettings {
  return {
    ...s,
    vatAccounts: Object.entries(s.vatAccounts)
      .map(([rate, account]) => ({ rate, account }))
      .sort((a, b) => Number(b.rate) - Number(a.rate)),
    accountLabels: Object.entries(s.accountLabels).map(([account, label]) => ({ account, label })),
  };
}

function toPatch(input: AccountingSettingsInput): AccountingSettingsPatch {
  const patch: AccountingSettingsPatch = {};
  const scalar = ['journalCode', 'journalLabel', 'receivableAccount', 'defaultRevenueAccount', 'fallbackAuxiliaryAccount', 'fiscalYearEnd'] as const;
  for (const key of scalar) {
    const v = input[key];
    if (v !== undefined && v !== null) patch[key] = v.trim();
  }
  if (input.accountingSoftware !== undefined && input.accountingSoftware !== null) patch.accountingSoftware = input.accountingSoftware as AccountingSettingsPatch['accountingSoftware'];
  for (const flag of ['ximportDecimalComma', 'quadraUpdateExistingAccounts'] as const) {
    const v = input[flag];
    if (v !== undefined && v !== null) patch[flag] = v;
  }
  if (input.vatAccounts) {
    const map: Record<string, string> = {};
    for (const { rate, account } of input.vatAccounts) {
      if (rate in map) throw badInput(`vatAccounts names the rate ${JSON.stringify(rate)} twice`);
      map[rate.trim()] = account.trim();
    }
    patch.vatAccounts = map;
  }
  if (input.accountLabels) {
    const map: Record<string, string> = {};
    for (const { account, label } of input.accountLabels) {
      if (account in map) throw badInput(`accountLabels names the account ${JSON.stringify(account)} twice`);
      map[account.trim()] = label.trim();
    }
    patch.accountLabels = map;
  }
  return patch;
}

/** "Exporter les écritures comptables": the settings and the transfer marks (docs/accounting.md). */
@Resolver(() => Invoice)
export class AccountingResolver {
  @Query(() => AccountingSettings, { description: 'ACCOUNTANT or ADMIN' })
  async accountingSettings(@Ctx() ctx: ApiContext): Promise<AccountingSettings> {
    assertCanExport(ctx.principal);
    return toGraphql(await loadAccountingSettings(ctx.services.dataSource, ctx.principal.tenantId));
  }

  @Query(() => AccountingExportCheck, {
    description: 'ACCOUNTANT or ADMIN. The pre-flight check of "Exporter les écritures comptables": counts, totals and every problem of the selection in that format, without writing anything',
  })
  async accountingExportCheck(
    @Ctx() ctx: ApiContext,
    @Arg('selection', () => InvoiceSelection) selection: InvoiceSelection,
    @Arg('format', () => ExportFormat) format: ExportFormat,
  ): Promise<AccountingExportCheck> {
    assertCanExport(ctx.principal);
    const result = await ctx.services.exports.checkAccounting(ctx.principal, selection, format);
    return { ...result, problems: result.problems.map(withMessage), warnings: result.warnings.map(withMessage) };
  }

  @Mutation(() => AccountingSettings, { description: 'ADMIN only; each wrong field is refused with a message naming it' })
  async updateAccountingSettings(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => AccountingSettingsInput) input: AccountingSettingsInput,
  ): Promise<AccountingSettings> {
    if (!ctx.principal.roles.includes(Role.ADMIN)) throw forbidden('Changing the accounting settings needs the ADMIN role');
    const saved = await ctx.services.dataSource.transaction(async (tx) => {
      const before = await loadAccountingSettings(tx, ctx.principal.tenantId);
      const after = await updateAccountingSettings(tx, ctx.principal.tenantId, toPatch(input));
      await recordAudit(tx, ctx.audit, {
        action: AuditAction.ACCOUNTING_SETTINGS_CHANGED, targetType: AuditTarget.ACCOUNTING_SETTINGS, targetId: ctx.principal.tenantId,
        details: changedFields(before, after),
      });
      return after;
    });
    ctx.logger.info('Accounting settings updated');
    return toGraphql(saved);
  }

  @Mutation(() => InvoiceExport, { description: 'Removes the transfer marks of one ACCOUNTING_ENTRIES export (its import failed)' })
  async revertAccountingTransfer(@Ctx() ctx: ApiContext, @Arg('exportId', () => ID) exportId: string): Promise<InvoiceExport> {
    assertCanExport(ctx.principal);
    const { export: exp, removed } = await revertAccountingTransfer(ctx.services.dataSource, ctx.principal.tenantId, exportId, ctx.audit);
    ctx.logger.info({ exportId, removed }, 'Accounting transfer reverted');
    return exp;
  }

  @FieldResolver(() => Date, { nullable: true, description: 'Latest transfer to accounting (a completed ACCOUNTING_ENTRIES export), null if never' })
  accountingTransferredAt(@Root() invoice: Invoice, @Ctx() ctx: ApiContext): Promise<Date | null> {
    return ctx.loaders.accountingTransferredAt.load(invoice.id);
  }
}
