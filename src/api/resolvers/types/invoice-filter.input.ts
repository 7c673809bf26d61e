import { Field, ID, InputType, Int } from 'type-graphql';
import { BillingPeriod, InvoiceStatus, InvoiceType, PaymentMethod } from '../../../entities/enums';
import { DateScalar } from '../../../entities/scalars';
import type { InvoiceFilterSpec } from '../../../exports/selection';

@InputType({ description: 'Every field optional; all given fields AND together' })
export class InvoiceFilter implements InvoiceFilterSpec {
  @Field(() => [InvoiceType], { nullable: true })
  types?: InvoiceType[] | null;

  @Field(() => [InvoiceStatus], { nullable: true })
  statuses?: InvoiceStatus[] | null;

  @Field(() => DateScalar, { nullable: true, description: 'Inclusive, yyyy-mm-dd' })
  billingDateFrom?: string | null;

  @Field(() => DateScalar, { nullable: true, description: 'Inclusive, yyyy-mm-dd' })
  billingDateTo?: string | null;

  @Field(() => String, { nullable: true, description: '"2018/2019" or "2015"' })
  billingYear?: string | null;

  @Field(() => [BillingPeriod], { nullable: true })
  billingPeriods?: BillingPeriod[] | null;

  @Field(() => Int, { nullable: true })
  roleNumber?: number | null;

  @Field(() => ID, { nullable: true })
  payerId?: string | null;

  @Field(() => [PaymentMethod], { nullable: true })
  paymentMethods?: PaymentMethod[] | null;

  @Field(() => String, { nullable: true, description: 'Invoice number or payer name, case- and accent-insensitive' })
  search?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: documents an accounting export has transferred; false: not yet transferred (the monthly selection)',
  })
  accountingTransferred?: boolean | null;
}
