import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { InvoiceExport } from '../entities/invoice-export.entity';
import { ExportProfile } from '../profiles/profile.graphql';

/** GraphQL shapes of scheduled sends (docs/profiles.md, docs/api.md: names are contracts). */

export enum ScheduleCadence {
  WEEKLY = 'WEEKLY',
  MONTHLY = 'MONTHLY',
  QUARTERLY = 'QUARTERLY',
}
export enum ScheduleSelection {
  NOT_YET_TRANSFERRED = 'NOT_YET_TRANSFERRED',
  PREVIOUS_PERIOD = 'PREVIOUS_PERIOD',
}
export enum EmptyPeriod {
  SKIP = 'SKIP',
  SEND_NOTICE = 'SEND_NOTICE',
}
registerEnumType(ScheduleCadence, {
  name: 'ScheduleCadence',
  valuesConfig: {
    WEEKLY: { description: 'On a weekday (day 1 = Monday … 7 = Sunday): the week before' },
    MONTHLY: { description: 'On a day 1–28: the month before' },
    QUARTERLY: { description: "On a day 1–28 of a quarter's first month: the quarter before" },
  },
});
registerEnumType(ScheduleSelection, {
  name: 'ScheduleSelection',
  valuesConfig: {
    NOT_YET_TRANSFERRED: { description: 'Accounting entries not yet transferred, billing date up to the end of the period' },
    PREVIOUS_PERIOD: { description: 'Billing dates of the period just ended' },
  },
});
registerEnumType(EmptyPeriod, { name: 'EmptyPeriod' });

@InputType()
export class ExportScheduleInput {
  @Field(() => ID)
  profileId: string;

  @Field(() => ScheduleCadence)
  cadence: ScheduleCadence;

  @Field(() => Int, { description: 'WEEKLY: 1 (Monday) to 7; MONTHLY and QUARTERLY: 1 to 28' })
  day: number;

  @Field(() => Int, { description: "0 to 23, on the organisation's wall clock" })
  hour: number;

  @Field(() => [String], { description: '1 to 10 e-mail addresses' })
  recipients: string[];

  @Field(() => ScheduleSelection)
  selection: ScheduleSelection;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  enabled?: boolean | null;

  @Field(() => EmptyPeriod, { nullable: true, defaultValue: EmptyPeriod.SKIP })
  emptyPeriod?: EmptyPeriod | null;

  @Field(() => String, { nullable: true, description: "Told when a run fails or a mail cannot be delivered; omitted: the caller's user id if it is an address, else the first recipient" })
  ownerEmail?: string | null;
}

@ObjectType({ description: 'A scheduled send of an export profile to the accountant' })
export class ExportSchedule {
  @Field(() => ID)
  id: string;

  profileId: string;
  tenantId: string;
  lastRunExportId: string | null;

  @Field(() => ExportProfile)
  profile: ExportProfile;

  @Field(() => ScheduleCadence)
  cadence: ScheduleCadence;

  @Field(() => Int)
  day: number;

  @Field(() => Int)
  hour: number;

  @Field(() => [String])
  recipients: string[];

  @Field(() => ScheduleSelection)
  selection: ScheduleSelection;

  @Field()
  enabled: boolean;

  @Field(() => EmptyPeriod)
  emptyPeriod: EmptyPeriod;

  @Field(() => String)
  ownerEmail: string;

  @Field(() => Date, { nullable: true, description: 'null while disabled' })
  nextRunAt: Date | null;

  @Field(() => InvoiceExport, { nullable: true, description: "The export of the latest period run (null: none yet, or that period was empty)" })
  lastRun: InvoiceExport | null;

  @Field(() => String, { nullable: true, description: 'PENDING, REQUESTED, EMPTY, COMPLETED or FAILED: how the latest period run went' })
  lastRunStatus: string | null;

  @Field(() => String, { nullable: true, description: 'First day (yyyy-mm-dd) of the latest period run' })
  lastPeriodStart: string | null;
}
