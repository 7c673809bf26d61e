/**
 * The committed `schema.graphql` is the printed schema of the code, and it
 * holds the GraphQL contract of docs/api.md. Assertions are on the parsed
 * schema (types, nullability, defaults), not on text.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  GraphQLArgument,
  GraphQLEnumType,
  GraphQLField,
  GraphQLInputField,
  GraphQLInputObjectType,
  GraphQLObjectType,
  GraphQLSchema,
  buildSchema,
  isEnumType,
  isInputObjectType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { printedSchema } from '../../scripts/print-schema';

const SCHEMA_FILE = path.resolve(__dirname, '../../schema.graphql');
const committed = readFileSync(SCHEMA_FILE, 'utf8');

describe('schema.graphql', () => {
  it('equals the schema printed from the code', async () => {
    const printed = await printedSchema();
    if (printed !== committed) {
      const a = committed.split('\n');
      const b = printed.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      throw new Error(
        'schema.graphql differs from the schema of the code: run `npm run schema:print` and commit schema.graphql ' +
          '(and make sure the change keeps the contract of docs/api.md).\n' +
          `First difference at line ${line + 1}:\n  committed: ${a[line] ?? '<end of file>'}\n  code:      ${b[line] ?? '<end of file>'}`,
      );
    }
  });
});

describe('the contract of docs/api.md', () => {
  const schema: GraphQLSchema = buildSchema(committed);

  const objectType = (name: string): GraphQLObjectType => {
    const t = schema.getType(name);
    if (!isObjectType(t)) throw new Error(`${name} is not an object type`);
    return t;
  };
  const inputType = (name: string): GraphQLInputObjectType => {
    const t = schema.getType(name);
    if (!isInputObjectType(t)) throw new Error(`${name} is not an input type`);
    return t;
  };
  const enumType = (name: string): GraphQLEnumType => {
    const t = schema.getType(name);
    if (!isEnumType(t)) throw new Error(`${name} is not an enum`);
    return t;
  };
  /** field name → printed type ("[InvoiceType!]", "Int", "Payer!"). */
  const fieldTypes = (fields: Record<string, GraphQLField<unknown, unknown> | GraphQLInputField>) =>
    Object.fromEntries(Object.values(fields).map((f) => [f.name, String(f.type)]));
  const argsOf = (field: GraphQLField<unknown, unknown>) =>
    Object.fromEntries(field.args.map((a: GraphQLArgument) => [a.name, { type: String(a.type), defaultValue: a.defaultValue }]));

  it.each([
    ['InvoiceType', ['INVOICE', 'CREDIT_NOTE']],
    ['ExportKind', ['INVOICES', 'INVOICE_LINES', 'ACCOUNTING_ENTRIES']],
    ['ExportFormat', ['XLSX', 'CSV', 'FEC', 'QUADRA', 'XIMPORT', 'EBP', 'CEGID', 'SAGE100']],
    ['ExportStatus', ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED']],
    ['InvoiceStatus', ['TO_COLLECT', 'PARTIALLY_PAID', 'PAID', 'SETTLED', 'CANCELLED']],
    ['BillingPeriod', ['ANNUAL', 'SEMESTER_1', 'SEMESTER_2', 'QUARTER_1', 'QUARTER_2', 'QUARTER_3', 'QUARTER_4', 'MONTHLY']],
    ['PaymentMethod', ['CHEQUE', 'CASH', 'BANK_TRANSFER', 'DIRECT_DEBIT', 'CARD', 'HOLIDAY_VOUCHER', 'OTHER']],
  ])('enum %s has exactly its values', (name, values) => {
    expect(enumType(name).getValues().map((v) => v.name).sort()).toEqual([...values].sort());
  });

  it('has the Date and DateTime scalars', () => {
    expect(isScalarType(schema.getType('Date'))).toBe(true);
    expect(isScalarType(schema.getType('DateTime'))).toBe(true);
  });

  it('InvoiceFilter has every filter field, all optional', () => {
    expect(fieldTypes(inputType('InvoiceFilter').getFields())).toEqual({
      types: '[InvoiceType!]',
      statuses: '[InvoiceStatus!]',
      billingDateFrom: 'Date',
      billingDateTo: 'Date',
      billingYear: 'String',
      billingPeriods: '[BillingPeriod!]',
      roleNumber: 'Int',
      payerId: 'ID',
      paymentMethods: '[PaymentMethod!]',
      search: 'String',
      accountingTransferred: 'Boolean',
    });
  });

  it('InvoiceSelection: invoiceIds / filter / excludedInvoiceIds', () => {
    expect(fieldTypes(inputType('InvoiceSelection').getFields())).toEqual({
      invoiceIds: '[ID!]',
      filter: 'InvoiceFilter',
      excludedInvoiceIds: '[ID!]',
    });
  });

  // docs/accounting.md: the format's default depends on the kind (XLSX, FEC for
  // ACCOUNTING_ENTRIES), so the schema leaves it null and says so.
  it('RequestInvoiceExportInput with its defaults (format per kind, locale fr-FR)', () => {
    const fields = inputType('RequestInvoiceExportInput').getFields();
    expect(fieldTypes(fields)).toEqual({
      kind: 'ExportKind!',
      format: 'ExportFormat',
      selection: 'InvoiceSelection!',
      locale: 'String',
      idempotencyKey: 'String',
      // docs/profiles.md
      profileId: 'ID',
      columns: '[ExportColumnChoice!]',
      csv: 'CsvOptionsInput',
    });
    expect(fields.format.defaultValue).toBeUndefined();
    expect(fields.format.description).toMatch(/XLSX for INVOICES and INVOICE_LINES, the accountant's software of the accounting settings \(FEC unless set\) for ACCOUNTING_ENTRIES/);
    expect(fields.locale.defaultValue).toBe('fr-FR');
    expect(fields.kind.defaultValue).toBeUndefined();
    expect(fields.idempotencyKey.defaultValue).toBeUndefined();
  });

  it('Query: invoices, invoice, invoiceExport, invoiceExports with their defaults', () => {
    const q = objectType('Query').getFields();
    expect(fieldTypes(q)).toEqual(
      expect.objectContaining({
        invoices: 'InvoiceConnection!',
        invoice: 'Invoice',
        invoiceExport: 'InvoiceExport',
        invoiceExports: 'InvoiceExportConnection!',
      }),
    );
    expect(argsOf(q.invoices)).toEqual({
      filter: { type: 'InvoiceFilter', defaultValue: undefined },
      first: { type: 'Int', defaultValue: 50 },
      after: { type: 'String', defaultValue: undefined },
    });
    expect(argsOf(q.invoice)).toEqual({ id: { type: 'ID!', defaultValue: undefined } });
    expect(argsOf(q.invoiceExport)).toEqual({ id: { type: 'ID!', defaultValue: undefined } });
    expect(argsOf(q.invoiceExports)).toEqual({
      first: { type: 'Int', defaultValue: 20 },
      after: { type: 'String', defaultValue: undefined },
      statuses: { type: '[ExportStatus!]', defaultValue: undefined },
    });
  });

  it('Mutation: requestInvoiceExport, cancelInvoiceExport', () => {
    const m = objectType('Mutation').getFields();
    expect(fieldTypes(m)).toEqual(
      expect.objectContaining({ requestInvoiceExport: 'InvoiceExport!', cancelInvoiceExport: 'InvoiceExport!' }),
    );
    expect(argsOf(m.requestInvoiceExport)).toEqual({ input: { type: 'RequestInvoiceExportInput!', defaultValue: undefined } });
    expect(argsOf(m.cancelInvoiceExport)).toEqual({ id: { type: 'ID!', defaultValue: undefined } });
  });

  it('Subscription: invoiceExportUpdated(id: ID!): InvoiceExport!', () => {
    const s = objectType('Subscription').getFields();
    expect(String(s.invoiceExportUpdated.type)).toBe('InvoiceExport!');
    expect(argsOf(s.invoiceExportUpdated)).toEqual({ id: { type: 'ID!', defaultValue: undefined } });
  });

  it('InvoiceExport has the fields of the contract', () => {
    expect(fieldTypes(objectType('InvoiceExport').getFields())).toEqual(
      expect.objectContaining({
        id: 'ID!',
        kind: 'ExportKind!',
        format: 'ExportFormat!',
        status: 'ExportStatus!',
        locale: 'String!',
        processedRows: 'Int!',
        totalRows: 'Int',
        progress: 'Float!',
        rowCount: 'Int',
        fileName: 'String',
        fileSize: 'Int',
        downloadUrl: 'String',
        downloadUrlExpiresAt: 'DateTime',
        error: 'ExportError',
        createdAt: 'DateTime!',
        startedAt: 'DateTime',
        completedAt: 'DateTime',
        expiresAt: 'DateTime',
        warnings: '[ExportWarning!]',
      }),
    );
    expect(fieldTypes(objectType('ExportError').getFields())).toEqual({ code: 'String!', message: 'String!' });
    // docs/accounting.md: the accounting checks' item shape (rule, field, width, documents) on top of code, count, message.
    expect(fieldTypes(objectType('ExportWarning').getFields())).toEqual({
      code: 'String!', count: 'Int!', message: 'String!', rule: 'String', field: 'String', width: 'Int', documents: '[String!]',
    });
  });

  it('docs/accounting.md: accountingSettings, updateAccountingSettings, revertAccountingTransfer, Invoice.accountingTransferredAt', () => {
    expect(String(objectType('Query').getFields().accountingSettings.type)).toBe('AccountingSettings!');
    const m = objectType('Mutation').getFields();
    expect(String(m.updateAccountingSettings.type)).toBe('AccountingSettings!');
    expect(argsOf(m.updateAccountingSettings)).toEqual({ input: { type: 'AccountingSettingsInput!', defaultValue: undefined } });
    expect(String(m.revertAccountingTransfer.type)).toBe('InvoiceExport!');
    expect(argsOf(m.revertAccountingTransfer)).toEqual({ exportId: { type: 'ID!', defaultValue: undefined } });
    expect(String(objectType('Invoice').getFields().accountingTransferredAt.type)).toBe('DateTime');
    expect(fieldTypes(objectType('AccountingSettings').getFields())).toEqual({
      journalCode: 'String!',
      journalLabel: 'String!',
      receivableAccount: 'String!',
      defaultRevenueAccount: 'String!',
      vatAccounts: '[VatAccount!]!',
      accountLabels: '[AccountLabel!]!',
      fallbackAuxiliaryAccount: 'String!',
      fiscalYearEnd: 'String!',
      accountingSoftware: 'ExportFormat!',
      ximportDecimalComma: 'Boolean!',
      quadraUpdateExistingAccounts: 'Boolean!',
    });
  });

  it('docs/accounting.md: accountingExportCheck(selection, format): AccountingExportCheck!', () => {
    const q = objectType('Query').getFields();
    expect(String(q.accountingExportCheck.type)).toBe('AccountingExportCheck!');
    expect(argsOf(q.accountingExportCheck)).toEqual({
      selection: { type: 'InvoiceSelection!', defaultValue: undefined },
      format: { type: 'ExportFormat!', defaultValue: undefined },
    });
    expect(fieldTypes(objectType('AccountingExportCheck').getFields())).toEqual({
      entryCount: 'Int!', lineCount: 'Int!', totalDebit: 'String!', totalCredit: 'String!',
      problems: '[AccountingExportProblem!]!', warnings: '[AccountingExportProblem!]!',
    });
    expect(fieldTypes(objectType('AccountingExportProblem').getFields())).toEqual({
      rule: 'String!', field: 'String', width: 'Int', count: 'Int!', documents: '[String!]!', message: 'String!',
    });
  });

  it.each([
    ['InvoiceConnection', 'InvoiceEdge', 'Invoice!'],
    ['InvoiceExportConnection', 'InvoiceExportEdge', 'InvoiceExport!'],
  ])('%s has the Relay shape', (connection, edge, node) => {
    expect(fieldTypes(objectType(connection).getFields())).toEqual(
      expect.objectContaining({ edges: `[${edge}!]!`, pageInfo: 'PageInfo!', totalCount: 'Int!' }),
    );
    expect(fieldTypes(objectType(edge).getFields())).toEqual(expect.objectContaining({ cursor: 'String!', node }));
    expect(fieldTypes(objectType('PageInfo').getFields())).toEqual(
      expect.objectContaining({ hasNextPage: 'Boolean!', endCursor: 'String' }),
    );
  });

  it('Invoice exposes every column of docs/data-model.md in camelCase, with payer and lines', () => {
    expect(fieldTypes(objectType('Invoice').getFields())).toEqual(
      expect.objectContaining({
        id: 'ID!',
        type: 'InvoiceType!',
        number: 'String!',
        billingDate: 'Date!',
        roleNumber: 'Int',
        payerId: 'ID!',
        billingPeriod: 'BillingPeriod!',
        billingYear: 'String!',
        notes: 'String',
        amountDue: 'String!',
        amountPaid: 'String!',
        remainingDue: 'String!',
        pendingCollection: 'String!',
        status: 'InvoiceStatus!',
        uniqueIdentifier: 'String',
        paymentMethod: 'PaymentMethod',
        creditedInvoiceId: 'ID',
        createdAt: 'DateTime!',
        payer: 'Payer!',
        lines: '[InvoiceLine!]!',
      }),
    );
  });

  it('Payer and InvoiceLine expose their columns', () => {
    expect(fieldTypes(objectType('Payer').getFields())).toEqual(
      expect.objectContaining({
        id: 'ID!',
        lastName: 'String!',
        firstName: 'String!',
        displayName: 'String!',
        customerIdentifier: 'String',
        familyQuotient: 'String',
        email: 'String',
      }),
    );
    expect(fieldTypes(objectType('InvoiceLine').getFields())).toEqual(
      expect.objectContaining({
        id: 'ID!',
        invoiceId: 'ID!',
        position: 'Int!',
        label: 'String!',
        beneficiary: 'String',
        activity: 'String',
        quantity: 'String!',
        unitPrice: 'String!',
        discountAmount: 'String!',
        amount: 'String!',
        vatRate: 'String!',
        accountingAccount: 'String',
        analyticCode: 'String',
      }),
    );
  });
});

describe('the contract of docs/profiles.md (profiles)', () => {
  const schema: GraphQLSchema = buildSchema(committed);
  const fieldsOf = (name: string) => {
    const t = schema.getType(name);
    if (!isObjectType(t) && !isInputObjectType(t)) throw new Error(`${name} is not an object or input type`);
    return Object.fromEntries(Object.values(t.getFields()).map((f) => [f.name, String(f.type)]));
  };

  it('has the types, inputs and enums of profiles with their names', () => {
    expect(fieldsOf('ExportColumn')).toEqual({ key: 'String!', header: 'String!', type: 'String!' });
    expect(fieldsOf('ExportColumnChoice')).toEqual({ key: 'String!', header: 'String' });
    expect(fieldsOf('ExportColumnChoiceValue')).toEqual({ key: 'String!', header: 'String!' });
    expect(fieldsOf('CsvOptionsInput')).toEqual({ encoding: 'CsvEncoding', separator: 'String', decimalSeparator: 'String', dateFormat: 'String', header: 'Boolean' });
    expect(fieldsOf('ExportProfileInput')).toMatchObject({
      name: 'String!', kind: 'ExportKind!', format: 'ExportFormat!', locale: 'String', columns: '[ExportColumnChoice!]',
      filter: 'InvoiceFilter', csv: 'CsvOptionsInput', fileNamePattern: 'String',
    });
    expect(fieldsOf('ExportProfile')).toMatchObject({
      id: 'ID!', name: 'String!', kind: 'ExportKind!', format: 'ExportFormat!', locale: 'String!',
      columns: '[ExportColumnChoiceValue!]!', fileNamePattern: 'String', createdAt: 'DateTime!', updatedAt: 'DateTime!',
    });
    const encoding = schema.getType('CsvEncoding');
    expect(isEnumType(encoding) && encoding.getValues().map((v) => v.name)).toEqual(['UTF8_BOM', 'WINDOWS_1252']);
  });

  it('has the queries and mutations of profiles', () => {
    const q = schema.getQueryType()!.getFields();
    const m = schema.getMutationType()!.getFields();
    expect(String(q.exportColumns.type)).toBe('[ExportColumn!]!');
    expect(q.exportColumns.args.map((a) => `${a.name}: ${String(a.type)}`).sort()).toEqual(['kind: ExportKind!', 'locale: String']);
    expect(q.exportColumns.args.find((a) => a.name === 'locale')!.defaultValue).toBe('fr-FR');
    expect(String(q.exportProfiles.type)).toBe('[ExportProfile!]!');
    expect(String(m.createExportProfile.type)).toBe('ExportProfile!');
    expect(String(m.updateExportProfile.type)).toBe('ExportProfile!');
    expect(String(m.deleteExportProfile.type)).toBe('Boolean!');
  });
});
