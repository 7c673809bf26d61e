/** Configuration (docs/configuration.md): one validated object; a bad value is refused with the variable's name. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, DEV_JWT_SECRET, loadConfig } from '../../src/config';

const ROOT = path.resolve(__dirname, '../..');

/** loadConfig's error for an env, or a failure when it does not throw. */
function configError(env: Record<string, string>, options = { allowDevJwtSecret: true }): ConfigError {
  try {
    loadConfig(env, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const LOCAL = { allowDevJwtSecret: true };
const STRONG = 'Zq3v9R-hX2mK8pL4sW7yB1nC6tF0dG5j';

describe('loadConfig defaults (docs/configuration.md)', () => {
  const config = loadConfig({}, LOCAL);

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
    expect(loadConfig({ PORT: '', WORKER_CONCURRENCY: '', DATABASE_URL: '' }, LOCAL)).toMatchObject({
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
      JWT_SECRET: STRONG,
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
      jwtSecret: STRONG,
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
    expect(loadConfig({ S3_FORCE_PATH_STYLE: v }, LOCAL).s3ForcePathStyle).toBe(true);
  });

  it.each(['false', 'False', '0', 'no', 'off'])('S3_FORCE_PATH_STYLE=%s is false', (v) => {
    expect(loadConfig({ S3_FORCE_PATH_STYLE: v }, LOCAL).s3ForcePathStyle).toBe(false);
  });
});

describe('JWT_SECRET: no deployment can run on a guessable secret', () => {
  it.each([
    ['production', 'production'],
    ['prod', 'prod'],
    ['Production', 'Production'],
    ['staging', 'staging'],
  ])('the development default is refused with NODE_ENV=%s, even in a local mode', (_n, nodeEnv) => {
    expect(configError({ NODE_ENV: nodeEnv }).message).toMatch(/^JWT_SECRET must be set/);
    expect(configError({ NODE_ENV: nodeEnv, JWT_SECRET: DEV_JWT_SECRET }).message).toMatch(/^JWT_SECRET must be set/);
  });

  it('the development default is refused outside the local modes, whatever NODE_ENV (a separate API or worker is a deployment)', () => {
    for (const nodeEnv of ['development', 'test', '']) {
      const err = configError({ NODE_ENV: nodeEnv }, { allowDevJwtSecret: false });
      expect(err.message).toMatch(/^JWT_SECRET must be set/);
      expect(err.message).toContain('npm start');
    }
    // NODE_ENV unset is development: still refused for a separate process.
    expect(() => loadConfig({})).toThrow(/JWT_SECRET must be set/);
  });

  it('the development default is accepted only by a local mode with NODE_ENV development, test or unset', () => {
    expect(loadConfig({ NODE_ENV: 'development' }, LOCAL).jwtSecret).toBe(DEV_JWT_SECRET);
    expect(loadConfig({ NODE_ENV: 'test' }, LOCAL).jwtSecret).toBe(DEV_JWT_SECRET);
    expect(loadConfig({}, LOCAL).jwtSecret).toBe(DEV_JWT_SECRET);
  });

  it.each([
    ['the docker-compose placeholder', 'compose-local-secret-change-me', /placeholder/],
    ['a short secret', 'short', /at least 32 characters/],
    ['16 characters (the old minimum)', 'aB3dE5gH7jK9mN1p', /at least 32 characters/],
    ['one repeated character', 'a'.repeat(40), /random/],
    ['a short pattern repeated', 'abcd'.repeat(10), /random/],
  ])('%s is refused in every mode, naming JWT_SECRET', (_name, secret, reason) => {
    for (const options of [{ allowDevJwtSecret: true }, { allowDevJwtSecret: false }]) {
      for (const nodeEnv of ['production', 'development']) {
        const err = configError({ NODE_ENV: nodeEnv, JWT_SECRET: secret }, options);
        expect(err.message).toMatch(/^JWT_SECRET /);
        expect(err.message).toMatch(reason);
      }
    }
  });

  it('a random secret of 32+ characters is accepted in production, by any process', () => {
    const c = loadConfig({ NODE_ENV: 'production', JWT_SECRET: STRONG });
    expect(c.jwtSecret).toBe(STRONG);
    expect(c.nodeEnv).toBe('production');
  });
});

describe('OPS_TOKEN and the operator surfaces (SECURITY.md)', () => {
  it('is off by default, and the dashboard read-only', () => {
    const c = loadConfig({ JWT_SECRET: STRONG });
    expect(c.opsToken).toBeUndefined();
    expect(c.opsDashboardWrite).toBe(false);
  });

  it('accepts a random token of 32+ characters and OPS_DASHBOARD_WRITE', () => {
    const token = 'k8J2-nQ5wE7rT1yU3iO9pA4sD6fG0hLz';
    expect(loadConfig({ JWT_SECRET: STRONG, OPS_TOKEN: token, OPS_DASHBOARD_WRITE: 'true' })).toMatchObject({ opsToken: token, opsDashboardWrite: true });
  });

  it.each([
    ['short', /^OPS_TOKEN must be at least 32 characters/],
    ['x'.repeat(48), /^OPS_TOKEN must be random/],
    [STRONG, /^OPS_TOKEN must differ from JWT_SECRET/],
  ])('refuses %j', (token, reason) => {
    expect(configError({ JWT_SECRET: STRONG, OPS_TOKEN: token }).message).toMatch(reason);
  });
});

describe('GraphQL and WebSocket limits', () => {
  it('have defaults, introspection on only in development and test', () => {
    expect(loadConfig({ JWT_SECRET: STRONG })).toMatchObject({
      graphqlMaxDepth: 8,
      graphqlMaxAliases: 15,
      graphqlMaxTokens: 2000,
      graphqlMaxDirectives: 10,
      graphqlMaxCost: 50000,
      graphqlIntrospection: true,
      wsMaxPayloadBytes: 65536,
      wsMaxSubscriptions: 20,
    });
    for (const nodeEnv of ['production', 'prod', 'staging']) {
      expect(loadConfig({ NODE_ENV: nodeEnv, JWT_SECRET: STRONG }).graphqlIntrospection).toBe(false);
    }
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: STRONG, GRAPHQL_INTROSPECTION: 'true' }).graphqlIntrospection).toBe(true);
  });

  it.each(['GRAPHQL_MAX_DEPTH', 'GRAPHQL_MAX_ALIASES', 'GRAPHQL_MAX_TOKENS', 'GRAPHQL_MAX_DIRECTIVES', 'GRAPHQL_MAX_COST', 'WS_MAX_PAYLOAD_BYTES', 'WS_MAX_SUBSCRIPTIONS'])(
    '%s=lots is refused by name',
    (name) => {
      expect(configError({ JWT_SECRET: STRONG, [name]: 'lots' }).message).toMatch(new RegExp(`^${name} must `));
    },
  );
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
    expect(loadConfig({ JWT_SECRET: STRONG })).toMatchObject({
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
