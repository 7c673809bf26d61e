import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@ObjectType({ description: 'One billed service of an invoice' })
@Entity({ name: 'invoice_lines' })
export class InvoiceLine {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID)
  @Column({ name: 'invoice_id', type: 'uuid' })
  invoiceId: string;

  @Field(() => Int)
  @Column({ type: 'int' })
  position: number;

  @Field()
  @Column({ type: 'text' })
  label: string;

  @Field(() => String, { nullable: true, description: 'The pupil' })
  @Column({ type: 'text', nullable: true })
  beneficiary: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  activity: string | null;

  @Field({ description: 'Decimal string, 3 decimals' })
  @Column({ type: 'numeric', precision: 10, scale: 3 })
  quantity: string;

  @Field({ description: 'Decimal string' })
  @Column({ name: 'unit_price', type: 'numeric', precision: 12, scale: 2 })
  unitPrice: string;

  @Field({ description: 'Decimal string' })
  @Column({ name: 'discount_amount', type: 'numeric', precision: 12, scale: 2, default: 0 })
  discountAmount: string;

  @Field({ description: 'Decimal string' })
  @Column({ type: 'numeric', precision: 12, scale: 2 })
  amount: string;

  @Field({ description: 'Decimal string, percent (20.00)' })
  @Column({ name: 'vat_rate', type: 'numeric', precision: 5, scale: 2, default: 0 })
  vatRate: string;

  @Field(() => String, { nullable: true })
  @Column({ name: 'accounting_account', type: 'text', nullable: true })
  accountingAccount: string | null;

  @Field(() => String, { nullable: true })
  @Column({ name: 'analytic_code', type: 'text', nullable: true })
  analyticCode: string | null;
}
