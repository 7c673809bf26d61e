import { Client } from 'pg';
import { ACCOUNTING_ENTRIES_KIND } from '../src/exports/kinds/accounting-entries';
import { INVOICES_KIND } from '../src/exports/kinds/invoices';
(async () => {
  const c = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/invoice_export_bench_xlsx' });
  await c.connect();
  const [{ id }] = (await c.query(`SELECT id FROM tenants WHERE name = 'bench-100000'`)).rows;
  const kind = process.argv[2] === 'inv' ? INVOICES_KIND : ACCOUNTING_ENTRIES_KIND;
  const q = kind.rowsQuery(id, { mode: 'filter', filter: {}, excludedInvoiceIds: [], createdBefore: 'infinity' } as any);
  for (const batch of [1000, 5000, 20000]) {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await c.query('SET LOCAL jit = off');
    const t0 = performance.now();
    await c.query(`DECLARE r NO SCROLL CURSOR FOR ${q.text}`, q.values);
    let n = 0;
    for (;;) { const r = await c.query(`FETCH FORWARD ${batch} FROM r`); if (!r.rows.length) break; n += r.rows.length; }
    const t1 = performance.now();
    await c.query('COMMIT');
    console.log(`cursor batch ${batch}: ${n} rows in ${((t1 - t0) / 1000).toFixed(2)} s`);
  }
  const e = await c.query(`EXPLAIN ${q.text}`, q.values);
  console.log(e.rows.map((r: any) => r['QUERY PLAN']).join('\n'));
  await c.query(`SET cursor_tuple_fraction = 1`);
  await c.query('BEGIN'); await c.query(`DECLARE r NO SCROLL CURSOR FOR ${q.text}`, q.values);
  const e2 = await c.query(`EXPLAIN ${q.text}`, q.values);
  await c.end();
})();
