import { Field, ID, InputType } from 'type-graphql';
import { ExportFormat, ExportKind } from '../../../entities/enums';
import { InvoiceFilter } from './invoice-filter.input';
import { CsvOptionsInput, ExportColumnChoice } from '../../../profiles/profile.graphql';

@InputType({ description: 'Exactly one of invoiceIds (ticked rows) / filter ("Tous les résultats")' })
export class InvoiceSelection {
  @Field(() => [ID], { nullable: true })
  invoiceIds?: string[] | null;

  @Field(() => InvoiceFilter, { nullable: true })
  filter?: InvoiceFilter | null;

  @Field(() => [ID], { nullable: true, description: 'With a filter: rows unticked from "Tous les résultats"' })
  excludedInvoiceIds?: string[] | null;
}

@InputType()
export class RequestInvoiceExportInput {
  @Field(() => ExportKind, {
    description: 'INVOICES ("Exporter"), INVOICE_LINES ("Exporter les lignes de facturation") or ACCOUNTING_ENTRIES ("Exporter les écritures comptables")',
  })
  kind: ExportKind;

  @Field(() => ExportFormat, {
    nullable: true,
    description: "Omitted or null: the kind's default, XLSX for INVOICES and INVOICE_LINES, the accountant's software of the accounting settings (FEC unless set) for ACCOUNTING_ENTRIES. FEC, QUADRA, XIMPORT, EBP, CEGID and SAGE100 are refused with the other kinds",
  })
  format?: ExportFormat | null;

  @Field(() => InvoiceSelection)
  selection: InvoiceSelection;

  @Field(() => String, { nullable: true, defaultValue: 'fr-FR', description: 'fr-FR or en-GB' })
  locale?: string | null;

  @Field(() => String, { nullable: true, description: 'The same key from the same tenant returns the existing export' })
  idempotencyKey?: string | null;

  @Field(() => ID, { nullable: true, description: "A saved profile: its format, locale, columns, CSV layout and file name apply (recorded as they are now); the selection is still this request's" })
  profileId?: string | null;

  @Field(() => [ExportColumnChoice], { nullable: true, description: "An ordered choice of columns (exportColumns), overriding the profile's" })
  columns?: ExportColumnChoice[] | null;

  @Field(() => CsvOptionsInput, { nullable: true, description: "CSV only: encoding, separators, date format, header line; overrides the profile's" })
  csv?: CsvOptionsInput | null;
}
