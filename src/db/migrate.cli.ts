import { loadConfigOrExit } from '../config';
import { createDataSource } from './data-source';
import { ensureDatabase, runMigrations } from './migrate';

async function main() {
  const config = loadConfigOrExit(process.env, { allowDevJwtSecret: true }); // a local tool: signs for, or never checks, tokens
  const created = await ensureDatabase(config.databaseUrl);
  if (created) console.log(`Created database ${new URL(config.databaseUrl).pathname.slice(1)}`);
  const ds = createDataSource(config.databaseUrl, { poolSize: 1, applicationName: 'invoice-export-migrate' });
  await ds.initialize();
  try {
    const ran = await runMigrations(ds);
    console.log(ran.length ? `Applied: ${ran.join(', ')}` : 'Schema is up to date');
  } finally {
    await ds.destroy();
  }
}

main().catch((err) => {
  console.error(`Migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
