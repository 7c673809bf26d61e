import { Client } from 'pg';
import { performance } from 'node:perf_hooks';
(async () => {
  const c = new Client({ connectionString: process.env.DATABASE_URL });
  await c.connect();
  const t = (await c.query(`SELECT id FROM tenants ORDER BY name LIMIT 1`)).rows[0].id;
  const p = (await c.query(`SELECT id FROM payers WHERE tenant_id = $1 LIMIT 1`, [t])).rows[0].id;
  let max = 0, n = 0; const lat: number[] = [];
  const stop = Date.now() + Number(process.argv[2]) * 1000;
  while (Date.now() < stop) {
    const t0 = performance.now();
    await c.query('BEGIN');
    await c.query(`INSERT INTO payers (tenant_id, last_name, first_name) VALUES ($1, 'WRITE', 'Probe') `, [t]);
    await c.query(`UPDATE invoices SET notes = notes WHERE tenant_id = $1 AND payer_id = $2`, [t, p]);
    await c.query('ROLLBACK');
    const ms = performance.now() - t0; lat.push(ms); max = Math.max(max, ms); n++;
    await new Promise((r) => setTimeout(r, 50));
  }
  lat.sort((a, b) => a - b);
  console.log(`writes: ${n}, p50 ${lat[Math.floor(n / 2)].toFixed(1)} ms, p99 ${lat[Math.floor(n * 0.99)].toFixed(1)} ms, max ${max.toFixed(1)} ms`);
  await c.end();
})();
