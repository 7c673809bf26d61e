import { Client } from 'pg';
import { createDataSource } from '/work/wt-list/src/db/data-source';
import { invoiceCountQuery, invoicePageQuery } from '/work/wt-list/src/invoices/invoice-query';
(async () => {
  const url = process.env.DATABASE_URL!;
  const ds = createDataSource(url, { poolSize: 1 });
  await ds.initialize();
  const c = new Client({ connectionString: url, options: '-c jit=off' });
  await c.connect();
  const tenant = (await c.query(`SELECT id FROM tenants WHERE name = $1`, [process.argv[2]])).rows[0].id;
  const filter = JSON.parse(process.argv[3]);
  const analyze = process.argv[4] === 'analyze';
  for (const q of [invoicePageQuery(ds, tenant, filter, 50, null), invoiceCountQuery(tenant, filter)]) {
    if (process.env.NOSEQ) await c.query('SET enable_seqscan = off'); if (process.env.OPC) await c.query(`SET cpu_operator_cost = ${process.env.OPC}`);
    const r = await c.query(`EXPLAIN (${analyze ? 'ANALYZE, BUFFERS, ' : ''}COSTS) ${q.sql}`, q.params);
    console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
    console.log('-----');
  }
  await c.end(); await ds.destroy();
})();
