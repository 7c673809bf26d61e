import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { BillingPeriod, InvoiceStatus, InvoiceType, PaymentMethod } from './enums';
import { DateScalar } from './scalars';

@ObjectType({ description: 'An invoice or a credit note (credit notes carry negative amounts)' })
@Entity({ name: 'invoices' })
export class Invoice {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID)
  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => InvoiceType)
  @Column({ type: 'text' })
  type: InvoiceType;

  @Field({ description: 'Unique per tenant, e.g. F163881 or A000001' })
  @Column({ type: 'text' })
  number: string;

  @Field(() => DateScalar)
  @Column({ name: 'billing_date', type: 'date' })
  billingDate: string;

  @Field(() => Int, { nullable: true })
  @Column({ name: 'role_number', type: 'int', nullable: true })
  roleNumber: number | null;

  @Field(() => ID)
  @Column({ name: 'payer_id', type: 'uuid' })
  payerId: string;

  @Field(() => BillingPeriod)
  @Column({ name: 'billing_period', type: 'text' })
  billingPeriod: BillingPeriod;

  @Field({ description: '"2018/2019" (school year) or "2015"' })
  @Column({ name: 'billing_year', type: 'text' })
  billingYear: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  notes: string | null;

  @Field({ description: 'Decimal string, e.g. "-500.50"' })
  @Column({ name: 'amount_due', type: 'numeric', precision: 12, scale: 2 })
  amountDue: string;

  @Field({ description: 'Decimal string' })
  @Column({ name: 'amount_paid', type: 'numeric', precision: 12, scale: 2 })
  amountPaid: string;

  @Field({ description: 'Decimal string' })
  @Column({ name: 'remaining_due', type: 'numeric', precision: 12, scale: 2 })
  remainingDue: string;

  @Field({ description: 'Decimal string: total awaiting collection' })
  @Column({ name: 'pending_collection', type: 'numeric', precision: 12, scale: 2 })
  pendingCollection: string;

  @Field(() => InvoiceStatus)
  @Column({ type: 'text' })
  status: InvoiceStatus;

  @Field(() => String, { nullable: true })
  @Column({ name: 'unique_identifier', type: 'text', nullable: true })
  uniqueIdentifier: string | null;

  @Field(() => PaymentMethod, { nullable: true })
  @Column({ name: 'payment_method', type: 'text', nullable: true })
  paymentMethod: PaymentMethod | null;

  @Field(() => ID, { nullable: true, description: 'For a credit note: the invoice it credits' })
  @Column({ name: 'credited_invoice_id', type: 'uuid', nullable: true })
  creditedInvoiceId: string | null;

  @Field(() => Date)
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
