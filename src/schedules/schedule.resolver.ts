import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ApiContext, assertCanExport } from '../api/context';
import { Role } from '../entities/enums';
import { InvoiceExport } from '../entities/invoice-export.entity';
import { forbidden } from '../errors';
import { revokeExportLinks } from '../links/links';
import { ExportProfile } from '../profiles/profile.graphql';
import { toExportProfile } from '../profiles/profile.resolver';
import { EmptyPeriod, ExportSchedule, ExportScheduleInput, ScheduleCadence, ScheduleSelection } from './schedule.graphql';
import type { ScheduleView } from './schedule.service';

function toSchedule(s: ScheduleView): ExportSchedule {
  return {
    id: s.id,
    tenantId: s.tenantId,
    profileId: s.profileId,
    lastRunExportId: s.lastRunExportId,
    profile: undefined as unknown as ExportProfile, // resolved below
    cadence: s.cadence as ScheduleCadence,
    day: s.day,
    hour: s.hour,
    recipients: s.recipients,
    selection: s.selection as ScheduleSelection,
    enabled: s.enabled,
    emptyPeriod: s.emptyPeriod as EmptyPeriod,
    ownerEmail: s.ownerEmail,
    nextRunAt: s.enabled ? s.nextRunAt : null,
    lastRun: null,
    lastRunStatus: s.lastRunStatus,
    lastPeriodStart: s.lastPeriodStart,
  };
}

function assertAdmin(ctx: ApiContext): void {
  if (!ctx.principal.roles.includes(Role.ADMIN)) throw forbidden('Managing scheduled sends needs the ADMIN role');
}

/** Scheduled sends (docs/profiles.md): ADMIN manages them; ACCOUNTANT and VIEWER read them. */
@Resolver(() => ExportSchedule)
export class ScheduleResolver {
  @Query(() => [ExportSchedule])
  async exportSchedules(@Ctx() ctx: ApiContext): Promise<ExportSchedule[]> {
    return (await ctx.services.schedules.list(ctx.principal.tenantId)).map(toSchedule);
  }

  @Mutation(() => ExportSchedule, { description: 'ADMIN' })
  async createExportSchedule(@Ctx() ctx: ApiContext, @Arg('input', () => ExportScheduleInput) input: ExportScheduleInput): Promise<ExportSchedule> {
    assertAdmin(ctx);
    return toSchedule(await ctx.services.schedules.create(ctx.audit, input));
  }

  @Mutation(() => ExportSchedule, { description: 'ADMIN' })
  async updateExportSchedule(
    @Ctx() ctx: ApiContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => ExportScheduleInput) input: ExportScheduleInput,
  ): Promise<ExportSchedule> {
    assertAdmin(ctx);
    return toSchedule(await ctx.services.schedules.update(ctx.audit, id, input));
  }

  @Mutation(() => Boolean, { description: 'ADMIN; the exports it made stay' })
  deleteExportSchedule(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    assertAdmin(ctx);
    return ctx.services.schedules.delete(ctx.audit, id);
  }

  @Mutation(() => InvoiceExport, {
    nullable: true,
    description: 'ADMIN: runs the period that ended last, now; the same period twice returns its existing export and sends nothing again; null when the period is empty',
  })
  async runExportScheduleNow(@Ctx() ctx: ApiContext, @Arg('id', () => ID) id: string): Promise<InvoiceExport | null> {
    assertAdmin(ctx);
    const exportId = await ctx.services.schedules.runNow(ctx.principal, id);
    return exportId ? ctx.services.exports.get(ctx.principal.tenantId, exportId) : null;
  }

  @Mutation(() => Boolean, { description: 'ACCOUNTANT or ADMIN: the links of the mails to this export stop working (410); false when there is no such export' })
  revokeExportLink(@Ctx() ctx: ApiContext, @Arg('exportId', () => ID) exportId: string): Promise<boolean> {
    assertCanExport(ctx.principal);
    return revokeExportLinks(ctx.services.dataSource, ctx.audit, exportId);
  }

  @FieldResolver(() => ExportProfile)
  async profile(@Root() s: ExportSchedule, @Ctx() ctx: ApiContext): Promise<ExportProfile> {
    const p = await ctx.services.profiles.get(s.tenantId, s.profileId);
    return toExportProfile(p!);
  }

  @FieldResolver(() => InvoiceExport, { nullable: true })
  lastRun(@Root() s: ExportSchedule, @Ctx() ctx: ApiContext): Promise<InvoiceExport | null> | null {
    return s.lastRunExportId ? ctx.services.exports.get(s.tenantId, s.lastRunExportId) : null;
  }
}
