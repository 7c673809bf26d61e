import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `trace_parent`: the W3C traceparent of the request that recorded an export
 * (tracing on, docs/operations.md), so that whichever process's dispatcher enqueues
 * it, and the worker that runs it, join the request's trace. NULL when
 * tracing is off.
 */
export class TraceParent1765050000000 implements MigrationInterface {
  name = 'TraceParent1765050000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invoice_exports ADD COLUMN trace_parent text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invoice_exports DROP COLUMN trace_parent`);
  }
}
