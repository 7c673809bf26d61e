import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { ExportFormat, ExportKind, ExportStatus, WaitingReason } from './enums';
import type { StoredSelection } from '../exports/selection';
import type { FileLayout } from '../profiles/file-layout';

@ObjectType()
export class ExportError {
  @Field()
  code: string;

  @Field()
  message: string;
}

@ObjectType({ description: 'Something the user should know about a completed file, e.g. payers given the fallback auxiliary account' })
export class ExportWarning {
  @Field()
  code: string;

  @Field(() => Int)
  count: number;

  @Field()
  message: string;

  @Field(() => String, { nullable: true, description: 'The rule (same as code) of a warning found by the accounting checks, e.g. LABEL_SHORTENED' })
  rule?: string | null;

  @Field(() => String, { nullable: true, description: 'The field concerned (EcritureLib, CompAuxLib…)' })
  field?: string | null;

  @Field(() => Int, { nullable: true, description: 'The width of that field in the layout' })
  width?: number | null;

  @Field(() => [String], { nullable: true, description: 'The first 20 documents concerned, in export order (count says how many in all)' })
  documents?: string[] | null;
}

/** bigint columns come back from pg as strings; file sizes fit a JS number. */
const bigintAsNumber = {
  to: (v: number | null) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

@ObjectType({ description: 'An asynchronous export of invoices, of their billing lines or of their accounting entries' })
@Entity({ name: 'invoice_exports' })
export class InvoiceExport {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'requested_by', type: 'text' })
  requestedBy: string;

  @Field(() => ExportKind)
  @Column({ type: 'text' })
  kind: ExportKind;

  @Field(() => ExportFormat)
  @Column({ type: 'text' })
  format: ExportFormat;

  @Field()
  @Column({ type: 'text', default: 'fr-FR' })
  locale: string;

  @Column({ type: 'jsonb' })
  selection: StoredSelection;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey: string | null;

  @Field(() => ExportStatus)
  @Column({ type: 'text', default: ExportStatus.QUEUED })
  status: ExportStatus;

  @Field(() => Int)
  @Column({ name: 'processed_rows', type: 'int', default: 0 })
  processedRows: number;

  @Field(() => Int, { nullable: true })
  @Column({ name: 'total_rows', type: 'int', nullable: true })
  totalRows: number | null;

  @Field(() => Int, { nullable: true })
  @Column({ name: 'row_count', type: 'int', nullable: true })
  rowCount: number | null;

  @Column({ name: 'file_key', type: 'text', nullable: true })
  fileKey: string | null;

  @Field(() => String, { nullable: true })
  @Column({ name: 'file_name', type: 'text', nullable: true })
  fileName: string | null;

  @Field(() => Int, { nullable: true, description: 'Bytes' })
  @Column({ name: 'file_size', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  fileSize: number | null;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Field(() => Date)
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Field(() => [ExportWarning], { nullable: true, description: 'Set on completion; null when there is nothing to report' })
  @Column({ type: 'jsonb', nullable: true })
  warnings: ExportWarning[] | null;

  /** The attempt holding a RUNNING export; every write of an attempt names it. */
  @Column({ name: 'lease_token', type: 'uuid', nullable: true })
  leaseToken: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  /** NULL on a QUEUED export: not in Redis yet (the dispatcher's outbox). */
  @Column({ name: 'enqueued_at', type: 'timestamptz', nullable: true })
  enqueuedAt: Date | null;

  /** A retry waits until then. */
  @Field(() => Date, { nullable: true, description: 'When a QUEUED export waiting to retry may run again' })
  @Column({ name: 'not_before', type: 'timestamptz', nullable: true })
  notBefore: Date | null;

  /** Documents selected, counted at request time: small exports go first. */
  @Column({ name: 'expected_rows', type: 'int', nullable: true })
  expectedRows: number | null;

  @Field(() => WaitingReason, { nullable: true, description: 'Why a QUEUED export has not started yet; null otherwise' })
  @Column({ name: 'waiting_reason', type: 'text', nullable: true })
  waitingReason: WaitingReason | null;

  @Column({ name: 'files_cleaned_at', type: 'timestamptz', nullable: true })
  filesCleanedAt: Date | null;

  /** The profile's (or the request's) columns, CSV layout and file name, as they were when requested (docs/profiles.md); null: the defaults. */
  @Column({ type: 'jsonb', nullable: true })
  options: FileLayout | null;

  /** QUEUE_PREFIX of the deployment that recorded it (NULL: any deployment's). */
  @Column({ name: 'queue_prefix', type: 'text', nullable: true })
  queuePrefix: string | null;
}
