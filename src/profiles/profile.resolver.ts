import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { ApiContext, assertCanExport } from '../api/context';
import { ExportKind } from '../entities/enums';
import { badInput } from '../errors';
import { exportColumns, exportKind } from '../exports/kinds';
import { isExportLocale, SUPPORTED_LOCALES, type ExportLocale } from '../exports/labels';
import { chooseColumns } from './file-layout';
import { CsvEncoding, ExportColumn, ExportProfile, ExportProfileInput } from './profile.graphql';
import type { ProfileData } from './profile.service';

export function toExportProfile(p: ProfileData): ExportProfile {
  const columns = chooseColumns(exportKind(p.kind).columns, p.columns ?? null).map((c) => ({ key: c.key, header: c.header[p.locale] }));
  return {
    id: p.id,
    name: p.name,
    kind: p.kind,
    format: p.format,
    locale: p.locale,
    columns,
    csv: p.csv ? { ...p.csv, encoding: p.csv.encoding as CsvEncoding } : null,
    hasFilter: p.filter !== null,
    fileNamePattern: p.fileNamePattern,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

/** Saved export profiles (docs/profiles.md): every role reads them; ACCOUNTANT and ADMIN manage them. */
@Resolver(() => ExportProfile)
export class ProfileResolver {
  @Query(() => [ExportColumn], { description: 'The columns an export of the kind can hold, in their default order' })
  exportColumns(
    @Arg('kind', () => ExportKind) kind: ExportKind,
    @Arg('locale', () => String, { nullable: true, defaultValue: 'fr-FR' }) locale: string | null,
  ): ExportColumn[] {
    const l = locale ?? 'fr-FR';
    if (!isExportLocale(l)) throw badInput(`locale must be one of ${SUPPORTED_LOCALES.join(', ')} (got "${l}")`, { field: 'locale' });
    return exportColumns(kind, l as ExportLocale);
  }

  @Query(() => [ExportProfile], { description: "The organisation's saved profiles, by name" })
  async exportProfiles(@Ctx() ctx: ApiContext): Promise<ExportProfile[]> {
    return (await ctx.services.profiles.list(ctx.principal.tenantId)).map(toExportProfile);
  }

  @Mutation(() => ExportProfile, { description: 'ACCOUNTANT or ADMIN' })
  async createExportProfile(@Ctx() ctx: ApiContext, @Arg('input', () => ExportProfileInput) input: ExportProfileInput): Promise<ExportProfile> {
    assertCanManageProfiles(ctx);
    return toExportProfile(await ctx.services.profiles.create(ctx.audit, input));
  }

  @Mutation(() => ExportProfile, { description: 'ACCOUNTANT or ADMIN; exports already requested keep the settings they were requested with' })
  async updateExportProfile(
    @Ctx() ctx: ApiContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => ExportProfileInput) input: ExportProfileInput,
  ): Promise<ExportProfile> {
    assertCanManageProfiles(ctx);
    return toExportProfile(await ctx.services.profiles.update(ctx.audit, id, input));
  }

  @Mutation(() => Boolean, { description: 'ACCOUNTANT or ADMIN; false when there was no such profile' })
  deleteExportProfile(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    assertCanManageProfiles(ctx);
    return ctx.services.profiles.delete(ctx.audit, id);
  }
}

function assertCanManageProfiles(ctx: ApiContext): void {
  // The same roles as exporting: whoever may export may save how.
  assertCanExport(ctx.principal);
}
