import { Field, InputType } from 'type-graphql';
import { AuditAction } from '../../../audit/audit';

@InputType({ description: 'Every given field must match' })
export class AuditEventFilter {
  @Field(() => [AuditAction], { nullable: true })
  actions?: AuditAction[] | null;

  @Field(() => String, { nullable: true, description: "The token's subject (sub) of whoever acted" })
  actor?: string | null;

  @Field(() => String, { nullable: true, description: 'An export id, or the tenant id for its settings' })
  targetId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Inclusive' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Exclusive' })
  to?: Date | null;
}
