import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { ExportFormat } from '../../../entities/enums';

@ObjectType({ description: 'The account of a VAT rate' })
export class VatAccount {
  @Field({ description: 'As stored on billing lines, two decimals: "20.00", "5.50"' })
  rate: string;

  @Field()
  account: string;
}

@ObjectType({ description: 'The label (CompteLib) of an account' })
export class AccountLabel {
  @Field()
  account: string;

  @Field()
  label: string;
}

@ObjectType({ description: "The tenant's settings of the accounting export (defaults when never set)" })
export class AccountingSettings {
  @Field({ description: 'JournalCode, default VT' })
  journalCode: string;

  @Field({ description: 'JournalLib, default Ventes' })
  journalLabel: string;

  @Field({ description: 'Customer receivable account, default 411000' })
  receivableAccount: string;

  @Field({ description: 'Revenue account of billing lines without one, default 706000' })
  defaultRevenueAccount: string;

  @Field(() => [VatAccount])
  vatAccounts: VatAccount[];

  @Field(() => [AccountLabel], { description: 'Labels set by the tenant (others: Clients, Prestations de services, TVA collectée, else "Compte <n>")' })
  accountLabels: AccountLabel[];

  @Field({ description: 'CompAuxNum of payers without a customer identifier, default DIVERS' })
  fallbackAuxiliaryAccount: string;

  @Field({ description: 'MM-DD, default 12-31: names the FEC file (<SIREN>FEC<end of the fiscal year>.txt)' })
  fiscalYearEnd: string;

  @Field(() => ExportFormat, { description: "The accountant's software (FEC, QUADRA, XIMPORT, EBP, CEGID or SAGE100): the default format of the accounting export" })
  accountingSoftware: ExportFormat;

  @Field({ description: 'XIMPORT amounts with a decimal comma (default false: a point)' })
  ximportDecimalComma: boolean;

  @Field({ description: 'QUADRA customer records update an existing account (default true)' })
  quadraUpdateExistingAccounts: boolean;
}

@InputType()
export class VatAccountInput {
  @Field({ description: 'Two decimals: "20.00", "5.50"' })
  rate: string;

  @Field({ description: '1 to 20 characters of 0-9 A-Z' })
  account: string;
}

@InputType()
export class AccountLabelInput {
  @Field()
  account: string;

  @Field()
  label: string;
}

@InputType({ description: 'Every field optional: a given field replaces the stored one (lists as a whole)' })
export class AccountingSettingsInput {
  @Field(() => String, { nullable: true })
  journalCode?: string | null;

  @Field(() => String, { nullable: true })
  journalLabel?: string | null;

  @Field(() => String, { nullable: true })
  receivableAccount?: string | null;

  @Field(() => String, { nullable: true })
  defaultRevenueAccount?: string | null;

  @Field(() => [VatAccountInput], { nullable: true })
  vatAccounts?: VatAccountInput[] | null;

  @Field(() => [AccountLabelInput], { nullable: true })
  accountLabels?: AccountLabelInput[] | null;

  @Field(() => String, { nullable: true })
  fallbackAuxiliaryAccount?: string | null;

  @Field(() => String, { nullable: true, description: 'MM-DD' })
  fiscalYearEnd?: string | null;

  @Field(() => ExportFormat, { nullable: true, description: 'FEC, QUADRA, XIMPORT, EBP, CEGID or SAGE100' })
  accountingSoftware?: ExportFormat | null;

  @Field(() => Boolean, { nullable: true })
  ximportDecimalComma?: boolean | null;

  @Field(() => Boolean, { nullable: true })
  quadraUpdateExistingAccounts?: boolean | null;
}

@ObjectType({ description: 'One rule broken by documents of an accounting export: the first 20 documents in export order, and how many in all' })
export class AccountingExportProblem {
  @Field({ description: 'ACCOUNT_TOO_LONG, AUXILIARY_TOO_LONG, PIECE_REF_TOO_LONG, JOURNAL_CODE_TOO_LONG, ENTRY_NUMBER_TOO_LONG, IDENTIFIER_NOT_ENCODABLE, AMOUNT_TOO_LARGE, VAT_ACCOUNT_MISSING, UNBALANCED_ENTRIES, INVALID_ACCOUNT; warnings: LABEL_SHORTENED, SPANS_FISCAL_YEARS, SIREN_INVALID' })
  rule: string;

  @Field(() => String, { nullable: true, description: 'The field: CompteNum, CompAuxNum, PieceRef, JournalCode, EcritureNum, EcritureLib…' })
  field: string | null;

  @Field(() => Int, { nullable: true, description: 'Its width in the layout (bytes; characters for SAGE100; digits for EcritureNum)' })
  width: number | null;

  @Field(() => Int)
  count: number;

  @Field(() => [String])
  documents: string[];

  @Field({ description: 'The same, in French' })
  message: string;
}

@ObjectType({ description: 'What an accounting export of this selection in this format would write, found without writing anything' })
export class AccountingExportCheck {
  @Field(() => Int)
  entryCount: number;

  @Field(() => Int)
  lineCount: number;

  @Field({ description: 'Decimal, two places' })
  totalDebit: string;

  @Field({ description: 'Decimal, two places' })
  totalCredit: string;

  @Field(() => [AccountingExportProblem], { description: 'Blocking: the export would be refused' })
  problems: AccountingExportProblem[];

  @Field(() => [AccountingExportProblem], { description: 'Not blocking (labels shortened, the FEC name)' })
  warnings: AccountingExportProblem[];
}
