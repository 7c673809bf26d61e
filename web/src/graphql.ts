/**
 * Every operation of the page, typed from ../schema.graphql by gql.tada
 * (graphql-env.d.ts is generated from it by `npm run typecheck:web`).
 */
import { initGraphQLTada, type ResultOf, type VariablesOf } from 'gql.tada';
import type { introspection } from './graphql-env';

export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { Date: string; DateTime: string };
}>();

export type { ResultOf, VariablesOf };

export const InvoicesQuery = graphql(`
  query Invoices($filter: InvoiceFilter, $first: Int!, $after: String) {
    invoices(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id type number billingDate roleNumber billingPeriod billingYear notes
          amountDue amountPaid remainingDue pendingCollection status uniqueIdentifier paymentMethod
          payer { id displayName customerIdentifier familyQuotient }
        }
      }
    }
  }
`);

export type InvoiceRow = ResultOf<typeof InvoicesQuery>['invoices']['edges'][number]['node'];
export type InvoiceFilterInput = NonNullable<VariablesOf<typeof InvoicesQuery>['filter']>;

/** What the Exports region shows of an export (unmasked: the page reads it directly). */
export const ExportFields = graphql(`
  fragment ExportFields on InvoiceExport @_unmask {
    id kind format status locale processedRows totalRows progress rowCount fileName fileSize
    error { code message } createdAt startedAt completedAt expiresAt
    waitingReason queuePosition notBefore
  }
`);

export const ExportsQuery = graphql(`
  query Exports($first: Int!) {
    invoiceExports(first: $first) {
      totalCount
      edges { node { ...ExportFields } }
    }
  }
`, [ExportFields]);

export type ExportItem = ResultOf<typeof ExportsQuery>['invoiceExports']['edges'][number]['node'];
export type ExportKind = ExportItem['kind'];
export type ExportFormat = ExportItem['format'];

export const ExportQuery = graphql(`
  query Export($id: ID!) {
    invoiceExport(id: $id) { ...ExportFields }
  }
`, [ExportFields]);

/** Read at the click on "Télécharger": presigned URLs expire, so never reuse an old one. */
export const DownloadUrlQuery = graphql(`
  query DownloadUrl($id: ID!) {
    invoiceExport(id: $id) { id status downloadUrl }
  }
`);

export const RequestExportMutation = graphql(`
  mutation RequestExport($input: RequestInvoiceExportInput!) {
    requestInvoiceExport(input: $input) { ...ExportFields }
  }
`, [ExportFields]);

export type RequestExportInput = VariablesOf<typeof RequestExportMutation>['input'];

export const CancelExportMutation = graphql(`
  mutation CancelExport($id: ID!) {
    cancelInvoiceExport(id: $id) { ...ExportFields }
  }
`, [ExportFields]);

export const ExportUpdatedSubscription = graphql(`
  subscription ExportUpdated($id: ID!) {
    invoiceExportUpdated(id: $id) { ...ExportFields }
  }
`, [ExportFields]);

/** The audit trail, for ADMINs (anyone else gets FORBIDDEN: the page asks once to know whether to offer the view). */
export const AuditEventsQuery = graphql(`
  query AuditEvents($filter: AuditEventFilter, $first: Int!, $after: String) {
    auditEvents(filter: $filter, first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { id action actor roles targetType targetId at requestId } }
    }
  }
`);

export type AuditEventItem = ResultOf<typeof AuditEventsQuery>['auditEvents']['edges'][number]['node'];
export type AuditActionName = AuditEventItem['action'];

/** The pre-flight check of "Exporter les écritures comptables" (nothing written). */
export const AccountingCheckQuery = graphql(`
  query AccountingCheck($selection: InvoiceSelection!, $format: ExportFormat!) {
    accountingExportCheck(selection: $selection, format: $format) {
      entryCount lineCount totalDebit totalCredit
      problems { rule field width count documents message }
      warnings { rule field width count documents message }
    }
  }
`);

/** Saved export profiles (docs/profiles.md), offered in the export dialog. */
export const ProfilesQuery = graphql(`
  query Profiles {
    exportProfiles { id name kind format columns { key header } }
  }
`);

export type ProfileItem = ResultOf<typeof ProfilesQuery>['exportProfiles'][number];

/** The panel "Envois programmés". */
export const SchedulesQuery = graphql(`
  query Schedules {
    exportSchedules {
      id cadence day hour recipients selection enabled emptyPeriod nextRunAt lastRunStatus lastPeriodStart ownerEmail
      profile { id name }
      lastRun { id status fileName }
    }
  }
`);

export type AccountingCheck = ResultOf<typeof AccountingCheckQuery>['accountingExportCheck'];

/** The accountant's software: the format offered first for the accounting export. */
export const AccountingSoftwareQuery = graphql(`
  query AccountingSoftware { accountingSettings { accountingSoftware } }

`);

export type ScheduleItem = ResultOf<typeof SchedulesQuery>['exportSchedules'][number];

export const RunScheduleNowMutation = graphql(`
  mutation RunScheduleNow($id: ID!) {
    runExportScheduleNow(id: $id) { id status }
  }
`);

export const ExportColumnsQuery = graphql(`
  query ExportColumns($kind: ExportKind!) {
    exportColumns(kind: $kind) { key header type }
  }
`);

export const CreateProfileMutation = graphql(`
  mutation CreateProfile($input: ExportProfileInput!) {
    createExportProfile(input: $input) { id name kind format columns { key header } }
  }
`);

export type ProfileInput = VariablesOf<typeof CreateProfileMutation>['input'];
export type CsvOptionsValue = NonNullable<ProfileInput['csv']>;
export type ColumnChoiceValue = NonNullable<ProfileInput['columns']>[number];

export const CreateScheduleMutation = graphql(`
  mutation CreateSchedule($input: ExportScheduleInput!) {
    createExportSchedule(input: $input) { id }
  }
`);

export type ScheduleInput = VariablesOf<typeof CreateScheduleMutation>['input'];

export const UpdateScheduleMutation = graphql(`
  mutation UpdateSchedule($id: ID!, $input: ExportScheduleInput!) {
    updateExportSchedule(id: $id, input: $input) { id }
  }
`);

export const DeleteScheduleMutation = graphql(`
  mutation DeleteSchedule($id: ID!) {
    deleteExportSchedule(id: $id)
  }
`);
