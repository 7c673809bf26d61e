/** Configuration (DESIGN §7): one validated object; a bad value is refused with the variable's name. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');

/** loadConfig's error for an env, or a failure when it does not throw. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig defaults (DESIGN §7)', () => {
  const config = loadConfig({});

  it('has the documented defaults', () => {
    expect(config).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/invoice_export',
      redisUrl: 'redis://127.0.0.1:6379',
      s3Endpoint: undefined,
      s3Bucket: 'invoice-exports',
      port: 4000,
      workerConcurrency: 2,
      exportUrlTtlSeconds: 900,
      exportRetentionDays: 7,
      exportMaxIds: 100000,
      logLevel: 'info',
      queuePrefix: 'invoice-export',
      workerLockDurationMs: 30000,
      jwtSecret: DEV_JWT_SECRET,
      nodeEnv: 'development',
    });
    expect(typeof config.s3ForcePathStyle).toBe('boolean');
    expect(typeof config.s3Region).toBe('string');
  });

  it('is frozen', () => {
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', WORKER_CONCURRENCY: '', DATABASE_URL: '' })).toMatchObject({
      port: 4000,
      workerConcurrency: 2,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/invoice_export',
    });
  });

  it('reads given values', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db.example:5433/x',
      REDIS_URL: 'rediss://cache.example:6380',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_BUCKET: 'my-bucket',
      S3_REGION: 'eu-west-3',
      S3_ACCESS_KEY_ID: 'AK',
      S3_SECRET_ACCESS_KEY: 'SK',
      S3_FORCE_PATH_STYLE: 'false',
      JWT_SECRET: 'a-long-enough-secret-for-tests',
      PORT: '8080',
      WORKER_CONCURRENCY: '8',
      EXPORT_URL_TTL_SECONDS: '60',
      EXPORT_RETENTION_DAYS: '30',
      EXPORT_MAX_IDS: '500',
      LOG_LEVEL: 'debug',
      QUEUE_PREFIX: 'staging',
      WORKER_LOCK_DURATION_MS: '5000',
    });
    expect(c).toMatchObject({
      databaseUrl: 'postgresql://u:p@db.example:5433/x',
      redisUrl: 'rediss://cache.example:6380',
      s3Endpoint: 'http://127.0.0.1:9000',
      s3Bucket: 'my-bucket',
      s3Region: 'eu-west-3',
      s3AccessKeyId: 'AK',
      s3SecretAccessKey: 'SK',
      s3ForcePathStyle: false,
      jwtSecret: 'a-long-enough-secret-for-tests',
      port: 8080,
      workerConcurrency: 8,
      exportUrlTtlSeconds: 60,
      exportRetentionDays: 30,
      exportMaxIds: 500,
      logLevel: 'debug',
      queuePrefix: 'staging',
      workerLockDurationMs: 5000,
    });
  });
});

describe('loadConfig refuses bad values, naming the variable', () => {
  it('PORT=abc → "PORT must be a port number"', () => {
    expect(configError({ PORT: 'abc' }).message).toContain('PORT must be a port number');
  });

  it.each([
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['WORKER_CONCURRENCY', 'two'],
    ['WORKER_CONCURRENCY', '0'],
    ['WORKER_CONCURRENCY', '-3'],
    ['EXPORT_MAX_IDS', 'lots'],
    ['EXPORT_MAX_IDS', '0'],
    ['EXPORT_MAX_IDS', '1e5'],
    ['EXPORT_URL_TTL_SECONDS', '15m'],
    ['EXPORT_RETENTION_DAYS', 'week'],
    ['WORKER_LOCK_DURATION_MS', 'soon'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://root@127.0.0.1/invoice_export'],
    ['DATABASE_URL', 'http://127.0.0.1:5432/invoice_export'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['S3_ENDPOINT', 'minio:9000 '],
    ['S3_ENDPOINT', 'ftp://127.0.0.1:9000'],
    ['S3_FORCE_PATH_STYLE', 'maybe'],
    ['LOG_LEVEL', 'verbose'],
    ['S3_BUCKET', 'Not_A_Bucket'],
    ['QUEUE_PREFIX', 'has space'],
  ])('%s=%j', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.message).toMatch(new RegExp(`^${name} must `));
    expect(err.message).toContain(value.trim() === value ? value : value.trim());
  });

  it('says which scheme a URL needs', () => {
    expect(configError({ DATABASE_URL: 'mysql://x/y' }).message).toMatch(/DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(configError({ REDIS_URL: 'http://x' }).message).toMatch(/REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  it.each(['true', 'TRUE', '1', 'yes', 'on'])('S3_FORCE_PATH_STYLE=%s is true', (v) => {
    expect(loadConfig({ S3_FORCE_PATH_STYLE: v }).s3ForcePathStyle).toBe(true);
  });

  it.each(['false', 'False', '0', 'no', 'off'])('S3_FORCE_PATH_STYLE=%s is false', (v) => {
    expect(loadConfig({ S3_FORCE_PATH_STYLE: v }).s3ForcePathStyle).toBe(false);
  });
});

describe('JWT_SECRET', () => {
  it('the development default is refused with NODE_ENV=production', () => {
    expect(configError({ NODE_ENV: 'production' }).message).toMatch(/JWT_SECRET/);
    expect(configError({ NODE_ENV: 'production', JWT_SECRET: DEV_JWT_SECRET }).message).toMatch(/JWT_SECRET/);
  });

  it('a real secret is accepted in production', () => {
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'prod-secret-of-sufficient-length' });
    expect(c.jwtSecret).toBe('prod-secret-of-sufficient-length');
    expect(c.nodeEnv).toBe('production');
  });

  it('the development default is fine outside production', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).jwtSecret).toBe(DEV_JWT_SECRET);
    expect(loadConfig({ NODE_ENV: 'test' }).jwtSecret).toBe(DEV_JWT_SECRET);
  });

  it('a too short secret is refused', () => {
    expect(configError({ JWT_SECRET: 'short' }).message).toMatch(/^JWT_SECRET must /);
  });
});

describe('entry points stop on a bad value (loadConfigOrExit)', () => {
  it('npm run migrate with PORT=abc exits non-zero and names PORT on stderr', () => {
    const res = spawnSync(process.execPath, ['-r', './scripts/register.js', 'src/db/migrate.cli.ts'], {
      cwd: ROOT,
      // An unreachable database: if the config were not checked first, this would hang or fail differently.
      env: { ...process.env, PORT: 'abc', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.error).toBeUndefined();
    expect(res.status).not.toBe(0);
    expect(res.status).not.toBeNull();
    expect(res.stderr).toContain('PORT must be a port number');
    // One clear line, no stack trace.
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('retries, fairness and the reconciler (issues 8 and 10)', () => {
  it('defaults: ten attempts about 2½ minutes apart in all, 2 running and 20 active per tenant, 30 requests a minute', () => {
    expect(loadConfig({})).toMatchObject({
      exportMaxAttempts: 10,
      exportRetryDelayMs: 1000,
      exportRetryMaxDelayMs: 30_000,
      exportTenantConcurrency: 2,
      exportTenantMaxActive: 20,
      exportRateLimitPerMinute: 30,
      exportSmallMaxRows: 2000,
      workerSmallConcurrency: 1,
      exportPriorityAgingSeconds: 120,
      reconcileIntervalMs: 5000,
    });
  });

  it.each([
    ['EXPORT_MAX_ATTEMPTS', '0'],
    ['EXPORT_RETRY_DELAY_MS', 'soon'],
    ['EXPORT_TENANT_CONCURRENCY', '0'],
    ['EXPORT_TENANT_MAX_ACTIVE', 'many'],
    ['EXPORT_RATE_LIMIT_PER_MINUTE', '-1'],
    ['WORKER_SMALL_CONCURRENCY', 'one'],
    ['RECONCILE_INTERVAL_MS', '5s'],
  ])('%s=%j is refused, naming it', (name, value) => {
    expect(configError({ [name]: value }).message).toMatch(new RegExp(`^${name} must `));
  });

  it('refuses a cap of active exports below the tenant concurrency, and a max retry delay below the first', () => {
    expect(configError({ EXPORT_TENANT_CONCURRENCY: '5', EXPORT_TENANT_MAX_ACTIVE: '3' }).message).toBe(
      'EXPORT_TENANT_MAX_ACTIVE (3) must be at least EXPORT_TENANT_CONCURRENCY (5)',
    );
    expect(configError({ EXPORT_RETRY_DELAY_MS: '5000', EXPORT_RETRY_MAX_DELAY_MS: '1000' }).message).toBe(
      'EXPORT_RETRY_MAX_DELAY_MS (1000) must be at least EXPORT_RETRY_DELAY_MS (5000)',
    );
  });
});
