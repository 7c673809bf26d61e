import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { loadAccountingSettings, updateAccountingSettings, type AccountingSettingsData, type AccountingSettingsPatch } from '../../accounting/settings';
import { revertAccountingTransfer } from '../../accounting/transfers';
import { Invoice } from '../../entities';
import { Role } from '../../entities/enums';
import { InvoiceExport } from '../../entities/invoice-export.entity';
import { badInput, forbidden } from '../../errors';
import { ApiContext, assertCanExport } from '../context';
import { AccountingSettings, AccountingSettingsInput } from './types/accounting.input';

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

  @Mutation(() => AccountingSettings, { description: 'ADMIN only; each wrong field is refused with a message naming it' })
  async updateAccountingSettings(
    @Ctx() ctx: ApiContext,
    @Arg('input', () => AccountingSettingsInput) input: AccountingSettingsInput,
  ): Promise<AccountingSettings> {
    if (!ctx.principal.roles.includes(Role.ADMIN)) throw forbidden('Changing the accounting settings needs the ADMIN role');
    const saved = await updateAccountingSettings(ctx.services.dataSource, ctx.principal.tenantId, toPatch(input));
    ctx.logger.info('Accounting settings updated');
    return toGraphql(saved);
  }

  @Mutation(() => InvoiceExport, { description: 'Removes the transfer marks of one ACCOUNTING_ENTRIES export (its import failed)' })
  async revertAccountingTransfer(@Ctx() ctx: ApiContext, @Arg('exportId', () => ID) exportId: string): Promise<InvoiceExport> {
    assertCanExport(ctx.principal);
    const { export: exp, removed } = await revertAccountingTransfer(ctx.services.dataSource, ctx.principal.tenantId, exportId);
    ctx.logger.info({ exportId, removed }, 'Accounting transfer reverted');
    return exp;
  }

  @FieldResolver(() => Date, { nullable: true, description: 'Latest transfer to accounting (a completed ACCOUNTING_ENTRIES export), null if never' })
  accountingTransferredAt(@Root() invoice: Invoice, @Ctx() ctx: ApiContext): Promise<Date | null> {
    return ctx.loaders.accountingTransferredAt.load(invoice.id);
  }
}
