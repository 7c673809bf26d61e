/**
 * Environment → one typed, validated, frozen object (docs/configuration.md).
 * Read once; a bad value stops the process with a message naming the variable.
 */
export const DEV_JWT_SECRET = 'dev-only-insecure-secret-change-me';

/** Placeholders that shipped in docker-compose.yml or the docs: never a real secret. */
const KNOWN_PLACEHOLDERS = new Set([DEV_JWT_SECRET, 'compose-local-secret-change-me', 'change-me', 'changeme', 'secret']);

/** Shortest JWT_SECRET / OPS_TOKEN outside the local modes: 32 characters (`openssl rand -base64 48` gives 64). */
export const MIN_SECRET_LENGTH = 32;

/**
 * The environments where development conveniences may apply. Anything else
 * (production, prod, staging, a typo, unset-but-in-a-container) is treated as
 * a deployment: hardening fails closed.
 */
export const isDevelopmentEnv = (nodeEnv: string) => nodeEnv === 'development' || nodeEnv === 'test';

export interface Config {
  nodeEnv: string;
  databaseUrl: string;
  redisUrl: string;
  /** Unset: the single-process modes start an embedded s3rver. */
  s3Endpoint: string | undefined;
  s3Bucket: string;
  s3Region: string;
  s3AccessKeyId: string;
  s3SecretAccessKey: string;
  s3ForcePathStyle: boolean;
  /** HS256 key (development, single-process modes); unset when the identity provider's JWKS alone is trusted. */
  jwtSecret: string | undefined;
  /** The suite's identity provider (SECURITY.md); unset: HS256 tokens only. */
  jwt: JwksConfig | undefined;
  /** Claim paths (dotted) of the tenant and the roles, for every kind of token. */
  jwtTenantClaim: string;
  jwtRolesClaim: string;
  /** Audit rows older than this are deleted by the sweep. */
  auditRetentionDays: number;
  port: number;
  workerConcurrency: number;
  exportUrlTtlSeconds: number;
  exportRetentionDays: number;
  exportMaxIds: number;
  logLevel: string;
  queuePrefix: string;
  workerLockDurationMs: number;
  /** Where the embedded s3rver stores objects (local modes only). */
  s3LocalDir: string;
  /** Port of the embedded s3rver (0 = any free port). */
  s3LocalPort: number;
  /** Attempts of one export (takeovers included) before it is FAILED. */
  exportMaxAttempts: number;
  /** First retry delay after a transient failure; doubles up to exportRetryMaxDelayMs, with jitter. */
  exportRetryDelayMs: number;
  exportRetryMaxDelayMs: number;
  /** Most exports of one tenant running at once, over all workers (docs/fairness.md). */
  exportTenantConcurrency: number;
  /** Most exports of one tenant queued or running; one more is RATE_LIMITED (docs/fairness.md). */
  exportTenantMaxActive: number;
  /** requestInvoiceExport calls per user and minute (0 = no limit). */
  exportRateLimitPerMinute: number;
  /** Exports of at most this many documents run in the small-export lane. */
  exportSmallMaxRows: number;
  /** Slots of each worker process reserved for small exports. */
  workerSmallConcurrency: number;
  /** A waiting export older than this is ordered by age alone (no starvation of large exports). */
  exportPriorityAgingSeconds: number;
  /** How often each worker process runs the reconciler (one process at a time). */
  reconcileIntervalMs: number;
  /**
   * On SIGTERM/SIGINT: how long running exports may finish and connections
   * close before running attempts are handed back and what is left is forced.
   */
  shutdownGraceMs: number;
  /** The platform operator's credential (SECURITY.md); unset: /admin/queues and the other operator surfaces are off. */
  opsToken: string | undefined;
  /** The dashboard may change queues (pause, retry, clean…) only when true. */
  opsDashboardWrite: boolean;
  /** Limits checked on every GraphQL operation before it runs (HTTP and WebSocket). */
  graphqlMaxDepth: number;
  graphqlMaxAliases: number;
  graphqlMaxTokens: number;
  graphqlMaxDirectives: number;
  /** Estimated cost: every field 1, multiplied by the page sizes (`first`) of the lists around it. */
  graphqlMaxCost: number;
  /** Introspection and "Did you mean" suggestions; default on only in development and test. */
  graphqlIntrospection: boolean;
  /** Largest WebSocket message accepted (bytes); a bigger one closes the socket. */
  wsMaxPayloadBytes: number;
  /** Most operations open at once on one WebSocket. */
  wsMaxSubscriptions: number;
  /** Scheduled sends (docs/profiles.md). Unset: the single-process modes start an embedded sink; separate processes refuse schedules. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Base of the links in the mails (`<PUBLIC_URL>/d/<token>`); unset: the API's own address. */
  publicUrl: string | undefined;
  /** Days a link in a mail stays valid. */
  exportLinkDays: number;
  /** Where the embedded SMTP sink writes its .eml files (local modes only). */
  mailLocalDir: string;
}

export interface JwksConfig {
  jwksUrl: string;
  issuer: string;
  audience: string;
}

export interface LoadConfigOptions {
  /**
   * Set by the single-process local entry points only (`npm start`, the demo,
   * the dev tools): they may run on the development JWT_SECRET default, and
   * then only with NODE_ENV development or test. Separate API and worker
   * processes (a deployment) never may.
   */
  allowDevJwtSecret?: boolean;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number, what = 'an integer'): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be ${what} (got "${raw}")`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(`${name} must be ${what} between ${min} and ${max} (got "${raw}")`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false (got "${raw}")`);
}

function url(env: Env, name: string, fallback: string | undefined, protocols: string[]): string | undefined {
  const raw = env[name];
  const v = raw === undefined || raw === '' ? fallback : raw;
  if (v === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(`${name} must be a URL (got "${v}")`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must be a ${protocols.map((p) => p.replace(':', '://')).join(' or ')} URL (got "${v}")`);
  }
  return v;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Why a secret is too weak to sign tokens or guard a surface, or undefined when it is fine. */
function weakness(secret: string): string | undefined {
  if (KNOWN_PLACEHOLDERS.has(secret.trim().toLowerCase()) || KNOWN_PLACEHOLDERS.has(secret)) return 'is a published placeholder';
  if (secret.length < MIN_SECRET_LENGTH) return `must be at least ${MIN_SECRET_LENGTH} characters (got ${secret.length})`;
  // 'aaaa…', 'abababab…', '1234512345…': long but guessable. Random base64 or hex of 32+ characters has far more.
  if (new Set(secret).size < 10) return 'must be random (it has fewer than 10 distinct characters)';
  return undefined;
}

const GENERATE_HINT = 'generate one with `openssl rand -base64 48`';

function jwksOf(env: Env): JwksConfig | undefined {
  const jwksUrl = url(env, 'JWT_JWKS_URL', undefined, ['http:', 'https:']);
  const issuer = str(env, 'JWT_ISSUER', '');
  const audience = str(env, 'JWT_AUDIENCE', '');
  if (!jwksUrl) {
    if (issuer || audience) throw new ConfigError('JWT_ISSUER and JWT_AUDIENCE go with JWT_JWKS_URL (the identity provider\'s key set), which is not set');
    return undefined;
  }
  // Without them, a token the provider issued for another application (or another realm) would be accepted here.
  if (!issuer) throw new ConfigError('JWT_ISSUER must be set with JWT_JWKS_URL: the `iss` of the identity provider\'s tokens (e.g. https://sso.example.org/realms/school)');
  if (!audience) throw new ConfigError('JWT_AUDIENCE must be set with JWT_JWKS_URL: the `aud` the identity provider puts in tokens for this service');
  return { jwksUrl, issuer, audience };
}

function jwtSecretOf(env: Env, nodeEnv: string, options: LoadConfigOptions, jwks: JwksConfig | undefined): string | undefined {
  const raw = str(env, 'JWT_SECRET', '');
  if (raw === '' || raw === DEV_JWT_SECRET) {
    // The local modes keep their development secret even beside a JWKS: `npm run token` still signs for them.
    if (options.allowDevJwtSecret && isDevelopmentEnv(nodeEnv)) return DEV_JWT_SECRET;
    if (jwks && raw === '') return undefined;
    throw new ConfigError(
      jwks
        ? `JWT_SECRET is the published development default: unset it (JWT_JWKS_URL is enough) or ${GENERATE_HINT}`
        : `JWT_SECRET must be set (HS256, ${GENERATE_HINT}), or JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE (the identity provider's keys): ` +
          `without either no token can be verified. The development secret is accepted only by the single-process local modes ` +
          `(npm start, npm run demo) with NODE_ENV development or test (NODE_ENV is "${nodeEnv}")`,
    );
  }
  const weak = weakness(raw);
  if (weak) throw new ConfigError(`JWT_SECRET ${weak}: ${GENERATE_HINT}`);
  return raw;
}

/** A claim name or a dotted path into nested claims (`roles`, `realm_access.roles`). */
function claimPath(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback).trim();
  if (!v || v.split('.').some((part) => part === '')) throw new ConfigError(`${name} must be a claim name or a dotted path such as realm_access.roles (got "${v}")`);
  return v;
}

function opsTokenOf(env: Env, jwtSecret: string | undefined): string | undefined {
  const raw = str(env, 'OPS_TOKEN', '');
  if (raw === '') return undefined;
  const weak = weakness(raw);
  if (weak) throw new ConfigError(`OPS_TOKEN ${weak}: ${GENERATE_HINT}`);
  if (raw === jwtSecret) throw new ConfigError('OPS_TOKEN must differ from JWT_SECRET (whoever can sign tenant tokens is not thereby an operator)');
  return raw;
}

export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): Readonly<Config> {
  const nodeEnv = str(env, 'NODE_ENV', 'development');
  const jwt = jwksOf(env);
  const jwtSecret = jwtSecretOf(env, nodeEnv, options, jwt);
  const opsToken = opsTokenOf(env, jwtSecret);
  const logLevel = str(env, 'LOG_LEVEL', 'info');
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  const queuePrefix = str(env, 'QUEUE_PREFIX', 'invoice-export');
  if (!/^[A-Za-z0-9_.-]+$/.test(queuePrefix)) throw new ConfigError(`QUEUE_PREFIX must contain only letters, digits, '.', '_' or '-' (got "${queuePrefix}")`);
  const bucket = str(env, 'S3_BUCKET', 'invoice-exports');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`S3_BUCKET must be a valid bucket name (got "${bucket}")`);

  return Object.freeze({
    nodeEnv,
    databaseUrl: url(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/invoice_export', ['postgres:', 'postgresql:'])!,
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:'])!,
    s3Endpoint: url(env, 'S3_ENDPOINT', undefined, ['http:', 'https:']),
    s3Bucket: bucket,
    s3Region: str(env, 'S3_REGION', 'us-east-1'),
    s3AccessKeyId: str(env, 'S3_ACCESS_KEY_ID', 'S3RVER'),
    s3SecretAccessKey: str(env, 'S3_SECRET_ACCESS_KEY', 'S3RVER'),
    s3ForcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', true),
    jwtSecret,
    jwt,
    jwtTenantClaim: claimPath(env, 'JWT_TENANT_CLAIM', 'tenantId'),
    jwtRolesClaim: claimPath(env, 'JWT_ROLES_CLAIM', 'roles'),
    auditRetentionDays: int(env, 'AUDIT_RETENTION_DAYS', 400, 1, 36_500, 'a number of days'),
    port: int(env, 'PORT', 4000, 0, 65535, 'a port number'),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 2, 1, 64),
    exportUrlTtlSeconds: int(env, 'EXPORT_URL_TTL_SECONDS', 900, 1, 604800, 'a number of seconds'),
    exportRetentionDays: int(env, 'EXPORT_RETENTION_DAYS', 7, 1, 3650, 'a number of days'),
    exportMaxIds: int(env, 'EXPORT_MAX_IDS', 100000, 1, 10_000_000),
    logLevel,
    queuePrefix,
    workerLockDurationMs: int(env, 'WORKER_LOCK_DURATION_MS', 30000, 1000, 3_600_000, 'a number of milliseconds'),
    s3LocalDir: str(env, 'S3_LOCAL_DIR', '.data/s3'),
    s3LocalPort: int(env, 'S3_LOCAL_PORT', 4569, 0, 65535, 'a port number'),
    ...exportPolicy(env),
    opsToken,
    opsDashboardWrite: bool(env, 'OPS_DASHBOARD_WRITE', false),
    graphqlMaxDepth: int(env, 'GRAPHQL_MAX_DEPTH', 8, 2, 100),
    graphqlMaxAliases: int(env, 'GRAPHQL_MAX_ALIASES', 15, 0, 1000),
    graphqlMaxTokens: int(env, 'GRAPHQL_MAX_TOKENS', 2000, 50, 100_000),
    graphqlMaxDirectives: int(env, 'GRAPHQL_MAX_DIRECTIVES', 10, 0, 1000),
    graphqlMaxCost: int(env, 'GRAPHQL_MAX_COST', 50_000, 10, 100_000_000),
    graphqlIntrospection: bool(env, 'GRAPHQL_INTROSPECTION', isDevelopmentEnv(nodeEnv)),
    wsMaxPayloadBytes: int(env, 'WS_MAX_PAYLOAD_BYTES', 65_536, 1024, 16 * 1024 * 1024, 'a number of bytes'),
    wsMaxSubscriptions: int(env, 'WS_MAX_SUBSCRIPTIONS', 20, 1, 1000),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 25_000, 0, 3_600_000, 'a number of milliseconds'),
    ...mailPolicy(env),
  });
}

/** Scheduled sends to the accountant (docs/profiles.md). */
function mailPolicy(env: Env) {
  const mailFrom = str(env, 'MAIL_FROM', 'Exports <exports@localhost>');
  if (!/@/.test(mailFrom) || /[\r\n]/.test(mailFrom)) throw new ConfigError(`MAIL_FROM must be an e-mail address, e.g. "Exports <exports@example.org>" (got "${mailFrom}")`);
  const publicUrl = url(env, 'PUBLIC_URL', undefined, ['http:', 'https:']);
  return {
    smtpUrl: url(env, 'SMTP_URL', undefined, ['smtp:', 'smtps:']),
    mailFrom,
    publicUrl: publicUrl?.replace(/\/+$/, ''),
    exportLinkDays: int(env, 'EXPORT_LINK_DAYS', 14, 1, 365, 'a number of days'),
    mailLocalDir: str(env, 'MAIL_LOCAL_DIR', '.data/mail'),
  };
}

/** Retries, fairness and the reconciler (issue 8, docs/fairness.md). */
function exportPolicy(env: Env) {
  const exportRetryDelayMs = int(env, 'EXPORT_RETRY_DELAY_MS', 1000, 10, 600_000, 'a number of milliseconds');
  const exportRetryMaxDelayMs = int(env, 'EXPORT_RETRY_MAX_DELAY_MS', 30_000, 10, 3_600_000, 'a number of milliseconds');
  if (exportRetryMaxDelayMs < exportRetryDelayMs) {
    throw new ConfigError(`EXPORT_RETRY_MAX_DELAY_MS (${exportRetryMaxDelayMs}) must be at least EXPORT_RETRY_DELAY_MS (${exportRetryDelayMs})`);
  }
  const exportTenantConcurrency = int(env, 'EXPORT_TENANT_CONCURRENCY', 2, 1, 1000);
  const exportTenantMaxActive = int(env, 'EXPORT_TENANT_MAX_ACTIVE', 20, 1, 100_000);
  if (exportTenantMaxActive < exportTenantConcurrency) {
    throw new ConfigError(`EXPORT_TENANT_MAX_ACTIVE (${exportTenantMaxActive}) must be at least EXPORT_TENANT_CONCURRENCY (${exportTenantConcurrency})`);
  }
  return {
    exportMaxAttempts: int(env, 'EXPORT_MAX_ATTEMPTS', 10, 1, 100),
    exportRetryDelayMs,
    exportRetryMaxDelayMs,
    exportTenantConcurrency,
    exportTenantMaxActive,
    exportRateLimitPerMinute: int(env, 'EXPORT_RATE_LIMIT_PER_MINUTE', 30, 0, 100_000),
    exportSmallMaxRows: int(env, 'EXPORT_SMALL_MAX_ROWS', 2000, 0, 10_000_000),
    workerSmallConcurrency: int(env, 'WORKER_SMALL_CONCURRENCY', 1, 0, 64),
    exportPriorityAgingSeconds: int(env, 'EXPORT_PRIORITY_AGING_SECONDS', 120, 1, 86_400, 'a number of seconds'),
    reconcileIntervalMs: int(env, 'RECONCILE_INTERVAL_MS', 5000, 100, 600_000, 'a number of milliseconds'),
  };
}

/** For entry points: load or print the one-line reason and exit non-zero. */
export function loadConfigOrExit(env: Env = process.env, options: LoadConfigOptions = {}): Readonly<Config> {
  try {
    return loadConfig(env, options);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
