import { Field, ID, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

@ObjectType({ description: 'Who pays an invoice (a parent, a pupil, an association)' })
@Entity({ name: 'payers' })
export class Payer {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field()
  @Column({ name: 'last_name', type: 'text' })
  lastName: string;

  @Field()
  @Column({ name: 'first_name', type: 'text' })
  firstName: string;

  @Field(() => String, { description: 'Displayed name, "LASTNAME Firstname"' })
  get displayName(): string {
    return payerDisplayName(this.lastName, this.firstName);
  }

  @Field(() => String, { nullable: true, description: 'Account of the payer in the accounting software' })
  @Column({ name: 'customer_identifier', type: 'text', nullable: true })
  customerIdentifier: string | null;

  @Field(() => String, { nullable: true, description: 'Decimal string, e.g. "812.50"' })
  @Column({ name: 'family_quotient', type: 'numeric', precision: 10, scale: 2, nullable: true })
  familyQuotient: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  email: string | null;

  @Field(() => Date)
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/** `BUSSON Marie`: how the product shows a payer everywhere (list, files). */
export function payerDisplayName(lastName: string, firstName: string): string {
  return `${lastName.toLocaleUpperCase('fr-FR')} ${firstName}`.trim();
}
