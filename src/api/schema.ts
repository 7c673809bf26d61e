import 'reflect-metadata';
import { GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { buildSchema } from 'type-graphql';
import { AccountingResolver } from './resolvers/accounting.resolver';
import { AuditResolver } from './resolvers/audit.resolver';
import { ExportResolver } from './resolvers/export.resolver';
import { InvoiceResolver } from './resolvers/invoice.resolver';
import { ProfileResolver } from '../profiles/profile.resolver';
import { ScheduleResolver } from '../schedules/schedule.resolver';

/** The executable schema; `schema.graphql` at the root is its printed form. */
export async function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [InvoiceResolver, ExportResolver, AccountingResolver, AuditResolver, ProfileResolver, ScheduleResolver],
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    // Inputs are checked by the services, which know the tenant and the limits.
    validate: false,
    emitSchemaFile: false,
    // Subscriptions here use their own `subscribe` (exports/events.ts over
    // Redis); type-graphql still insists on a pubSub, which is never called.
    pubSub: {
      publish: () => {
        throw new Error('Publish through exports/events.ts');
      },
      subscribe: () => {
        throw new Error('Subscribe through exports/events.ts');
      },
    },
  });
}
