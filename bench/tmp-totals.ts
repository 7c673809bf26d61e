import { Client } from 'pg';
import { ACCOUNTING_ENTRIES_KIND } from '../src/exports/kinds/accounting-entries';
(async () => {
  const c = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/invoice_export_bench_xlsx' });
  await c.connect();
  await c.query('SET jit = off');
  const [{ id }] = (await c.query(`SELECT id FROM tenants WHERE name = 'bench-100000'`)).rows;
  const q = ACCOUNTING_ENTRIES_KIND.totalsQuery(id, { mode: 'filter', filter: {}, excludedInvoiceIds: [], createdBefore: 'infinity' } as any);
  console.log(q.text);
  const e = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.text}`, q.values);
  console.log(e.rows.map((r: any) => r['QUERY PLAN']).join('\n'));
  await c.end();
})();
