import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { Client, escapeLiteral } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ExportKind } from '../../src/entities/enums';
import { exportKind } from '../../src/exports/kinds';
import type { StoredSelection } from '../../src/exports/selection';
import { nullSink } from '../../tools/lib/util';

/** What the bench exports: every invoice of the tenant ("Tous les résultats", no filter), as the API stores it. */
export function allInvoices(createdBefore = new Date().toISOString()): StoredSelection {
  return { mode: 'filter', filter: {}, excludedInvoiceIds: [], createdBefore };
}

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) {
    // A PostgreSQL array literal, every element quoted; the SQL casts it (`::uuid[]`, `::text[]`).
    const items = value.map((v) => `"${String(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`);
    return escapeLiteral(`{${items.join(',')}}`);
  }
  if (typeof value === 'string') return escapeLiteral(value);
  throw new TypeError(`Cannot inline a ${typeof value} parameter`);
}

/**
 * The query with its `$n` parameters replaced by quoted literals (COPY takes
 * no parameters). Every `$n` of the export SQL is a parameter: it has no
 * dollar-quoted strings.
 */
export function inlineParams(text: string, values: readonly unknown[]): string {
  return text.replace(/\$(\d+)\b/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= values.length) throw new RangeError(`No value for $${n}`);
    return literal(values[i]);
  });
}

/** `COPY (<the export's own SELECT>) TO STDOUT WITH CSV` into a null sink: the floor for reading the rows. */
export async function copyOnce(databaseUrl: string, kind: ExportKind, tenantId: string, selection: StoredSelection) {
  const q = exportKind(kind).rowsQuery(tenantId, selection); // the registry's SELECT, as the worker runs it
  const sql = `COPY (${inlineParams(q.text, q.values)}) TO STDOUT WITH (FORMAT csv)`;
  const client = new Client({ connectionString: databaseUrl, application_name: 'invoice-export-bench' });
  await client.connect();
  try {
    // The same snapshot kind as the worker's.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const sink = nullSink();
    const t0 = performance.now();
    const stream = client.query(copyTo(sql));
    await pipeline(stream, sink);
    const seconds = (performance.now() - t0) / 1000;
    await client.query('COMMIT');
    return { seconds, rows: stream.rowCount, bytes: sink.bytes };
  } finally {
    await client.end();
  }
}
