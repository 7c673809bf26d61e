import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { InvoiceFilter } from '../api/resolvers/types/invoice-filter.input';
import { ExportFormat, ExportKind } from '../entities/enums';

/** GraphQL shapes of profiles (docs/profiles.md, docs/api.md: names are contracts). */

export enum CsvEncoding {
  UTF8_BOM = 'UTF8_BOM',
  WINDOWS_1252 = 'WINDOWS_1252',
}
registerEnumType(CsvEncoding, {
  name: 'CsvEncoding',
  valuesConfig: {
    UTF8_BOM: { description: 'UTF-8 with a byte order mark (Excel reads the accents)' },
    WINDOWS_1252: { description: 'Windows-1252; what it lacks is transliterated (ř → r), emoji become ?' },
  },
});

@ObjectType({ description: 'A column an export of a kind can hold' })
export class ExportColumn {
  @Field({ description: 'Stable camelCase key' })
  key: string;

  @Field({ description: "The header in the requested locale" })
  header: string;

  @Field({ description: 'text, code, date, money, integer, decimal or percent' })
  type: string;
}

@InputType()
export class ExportColumnChoice {
  @Field()
  key: string;

  @Field(() => String, { nullable: true, description: "A custom header; omitted: the locale's" })
  header?: string | null;
}

@ObjectType()
export class ExportColumnChoiceValue {
  @Field()
  key: string;

  @Field({ description: "The custom header, else the column's in the profile's locale" })
  header: string;
}

@InputType()
export class CsvOptionsInput {
  @Field(() => CsvEncoding, { nullable: true, defaultValue: CsvEncoding.UTF8_BOM })
  encoding?: CsvEncoding | null;

  @Field(() => String, { nullable: true, defaultValue: ';', description: '";", "," or a tab' })
  separator?: string | null;

  @Field(() => String, { nullable: true, defaultValue: ',', description: '"," or "."' })
  decimalSeparator?: string | null;

  @Field(() => String, { nullable: true, defaultValue: 'dd/mm/yyyy', description: 'dd/mm/yyyy, yyyy-mm-dd, ddmmyyyy or yyyymmdd' })
  dateFormat?: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: true, description: 'A first line naming the columns' })
  header?: boolean | null;
}

@ObjectType()
export class CsvOptions {
  @Field(() => CsvEncoding)
  encoding: CsvEncoding;

  @Field()
  separator: string;

  @Field()
  decimalSeparator: string;

  @Field()
  dateFormat: string;

  @Field()
  header: boolean;
}

@InputType()
export class ExportProfileInput {
  @Field()
  name: string;

  @Field(() => ExportKind)
  kind: ExportKind;

  @Field(() => ExportFormat)
  format: ExportFormat;

  @Field(() => String, { nullable: true, defaultValue: 'fr-FR' })
  locale?: string | null;

  @Field(() => [ExportColumnChoice], { nullable: true, description: "Ordered; omitted: every column of the kind" })
  columns?: ExportColumnChoice[] | null;

  @Field(() => InvoiceFilter, { nullable: true, description: "Applied by the profile's schedules" })
  filter?: InvoiceFilter | null;

  @Field(() => CsvOptionsInput, { nullable: true, description: 'CSV only' })
  csv?: CsvOptionsInput | null;

  @Field(() => String, { nullable: true, description: 'Letters, digits, - _ . and {kind} {date} {time} {tenant}; the extension is added' })
  fileNamePattern?: string | null;
}

@ObjectType({ description: "A saved export profile, shared by the organisation's users" })
export class ExportProfile {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field(() => ExportKind)
  kind: ExportKind;

  @Field(() => ExportFormat)
  format: ExportFormat;

  @Field()
  locale: string;

  @Field(() => [ExportColumnChoiceValue])
  columns: ExportColumnChoiceValue[];

  @Field(() => CsvOptions, { nullable: true, description: 'null: the locale’s CSV (UTF-8 with a BOM)' })
  csv: CsvOptions | null;

  @Field(() => Boolean, { description: 'Whether the profile carries a filter (used by its schedules)' })
  hasFilter: boolean;

  @Field(() => String, { nullable: true })
  fileNamePattern: string | null;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date)
  updatedAt: Date;
}
