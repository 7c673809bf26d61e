/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine
 * (none runs on the development and CI machines): the file is parsed and
 * compared with what the code reads; where a compose client is installed,
 * `config -q` validates it too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';
import { OTEL_VARIABLES } from '../../src/telemetry/tracing';

const ROOT = path.join(__dirname, '..', '..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

/** docs/configuration.md: every one of these is wired on the API and the workers. */
const CONTRACT_VARIABLES = [
  'DATABASE_URL', 'REDIS_URL', 'S3_ENDPOINT', 'S3_BUCKET', 'S3_REGION', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY',
  'S3_FORCE_PATH_STYLE', 'JWT_SECRET', 'PORT', 'WORKER_CONCURRENCY', 'EXPORT_URL_TTL_SECONDS', 'EXPORT_RETENTION_DAYS',
  'EXPORT_MAX_IDS', 'LOG_LEVEL', 'QUEUE_PREFIX', 'WORKER_LOCK_DURATION_MS',
];

/** The variables src/config.ts reads: every `env, 'NAME'` in it; and the OTEL_* ones src/telemetry honours. */
function variablesReadByConfig(): Set<string> {
  const names = new Set<string>(OTEL_VARIABLES);
  for (const m of read('src/config.ts').matchAll(/\benv, '([A-Z][A-Z0-9_]*)'/g)) names.add(m[1]);
  return names;
}

interface Service {
  image?: string;
  build?: { context: string; target?: string } | string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean> | string[];
  ports?: unknown[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string; disable?: boolean };
  entrypoint?: string[] | string;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

function envOf(name: string): Record<string, string> {
  const env = services[name].environment;
  expect(env && !Array.isArray(env)).toBe(true); // a map, so that it can be checked by name
  return Object.fromEntries(Object.entries(env as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

/**
 * As compose does: `${NAME:-default}` → default when NAME is not set;
 * `${NAME:?message}` → the value given in `set` (compose refuses to start without it).
 */
const withDefaults = (value: string, set: Record<string, string> = {}) =>
  value
    .replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1')
    .replace(/\$\{([A-Z0-9_]+):\?[^}]*\}/g, (_m, name: string) => {
      if (!(name in set)) throw new Error(`compose would refuse to start without ${name}`);
      return set[name];
    });

const healthTest = (s: Service) => (Array.isArray(s.healthcheck?.test) ? s.healthcheck!.test.join(' ') : String(s.healthcheck?.test ?? ''));

describe('docker-compose.yml', () => {
  it('has the services of the stack', () => {
    for (const name of ['postgres', 'redis', 'minio', 'minio-init', 'api', 'worker']) expect(Object.keys(services)).toContain(name);
    expect(services.postgres.image).toMatch(/^postgres:15\b/);
    expect(services.redis.image).toMatch(/^redis:7\b/);
    expect(services.minio.image).toMatch(/^minio\/minio\b/);
  });

  it('runs Redis without eviction and with the append-only file', () => {
    const cmd = ([] as string[]).concat(services.redis.command ?? []).join(' ');
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(cmd).toMatch(/--appendonly yes/);
  });

  it('checks the health of every long-running service', () => {
    expect(healthTest(services.postgres)).toMatch(/pg_isready/);
    expect(healthTest(services.redis)).toMatch(/redis-cli ping/);
    expect(healthTest(services.minio)).toMatch(/\/minio\/health\/live/);
    expect(healthTest(services.api)).toMatch(/\/readyz/);
    expect(healthTest(services.api)).toMatch(/4000/);
  });

  it('creates the bucket in a one-shot mc container once MinIO is healthy', () => {
    expect(services['minio-init'].image).toMatch(/^minio\/mc\b/);
    expect(([] as string[]).concat(services['minio-init'].entrypoint ?? []).join(' ')).toMatch(/mc mb --ignore-existing/);
    expect(services['minio-init'].depends_on).toEqual({ minio: { condition: 'service_healthy' } });
  });

  it.each(['api', 'worker'])('starts %s only when its dependencies are healthy or done', (name) => {
    const deps = services[name].depends_on as Record<string, { condition: string }>;
    expect(deps.postgres.condition).toBe('service_healthy');
    expect(deps.redis.condition).toBe('service_healthy');
    expect(deps.minio.condition).toBe('service_healthy');
    expect(deps['minio-init'].condition).toBe('service_completed_successfully');
    for (const [dep, { condition }] of Object.entries(deps)) {
      expect(Object.keys(services)).toContain(dep);
      expect(['service_healthy', 'service_completed_successfully']).toContain(condition);
    }
  });

  it('publishes the API on port 4000 and no port for the worker (so that --scale worker=3 works)', () => {
    expect((services.api.ports ?? []).map(String)).toContainEqual(expect.stringMatching(/(^|:)4000:4000$/));
    expect(services.worker.ports).toBeUndefined();
    expect((services.worker as { container_name?: string }).container_name).toBeUndefined();
  });

  it.each(['api', 'worker', 'migrate'])('runs %s from the compiled build of an entry point that exists', (name) => {
    const svc = services[name];
    expect(svc.build).toBeDefined();
    const cmd = ([] as string[]).concat(svc.command ?? []);
    expect(cmd[0]).toBe('node');
    // The service's V8 flags (src/runtime-flags.ts) before the entry point; the migration gets none.
    const entry = cmd.find((a) => !a.startsWith('--') && a !== 'node')!;
    const m = /^dist\/(src\/.+)\.js$/.exec(entry);
    expect(m).not.toBeNull();
    expect(existsSync(path.join(ROOT, `${m![1]}.ts`))).toBe(true);
  });

  it.each(['api', 'worker'])('wires every variable of docs/configuration.md on %s, and only variables the code reads', (name) => {
    const env = envOf(name);
    for (const v of CONTRACT_VARIABLES) expect(`${v}=${v in env}`).toBe(`${v}=true`);
    const read = variablesReadByConfig();
    for (const v of CONTRACT_VARIABLES) expect(read.has(v)).toBe(true); // the parse of config.ts found them
    for (const v of Object.keys(env)) expect(`${v} read by src/config.ts: ${read.has(v)}`).toBe(`${v} read by src/config.ts: true`);
    expect(env.NODE_ENV).toBe('production');
    expect(env.S3_ENDPOINT).toBe('http://minio:9000');
    expect(env.PORT).toBe('4000');
  });

  it.each(['api', 'worker'])('ships no usable JWT_SECRET on %s: compose refuses to start until one is set', (name) => {
    const value = envOf(name).JWT_SECRET;
    expect(value).toMatch(/^\$\{JWT_SECRET:\?[^}]*openssl rand[^}]*\}$/);
    expect(() => withDefaults(value)).toThrow(/without JWT_SECRET/);
    // The placeholder of earlier versions, if someone keeps it in an .env, stops the service.
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'compose-local-secret-change-me' })).toThrow(/JWT_SECRET/);
  });

  it.each(['api', 'worker'])('leaves the operator surfaces off on %s unless OPS_TOKEN is set', (name) => {
    const env = Object.fromEntries(Object.entries(envOf(name)).map(([k, v]) => [k, withDefaults(v, { JWT_SECRET: 'Zq3v9R-hX2mK8pL4sW7yB1nC6tF0dG5j' })]));
    const config = loadConfig(env);
    expect(config.opsToken).toBeUndefined();
    expect(config.opsDashboardWrite).toBe(false);
    expect(config.graphqlIntrospection).toBe(false);
  });

  it.each(['api', 'worker'])('gives %s a configuration that the service accepts in production', (name) => {
    const env = Object.fromEntries(Object.entries(envOf(name)).map(([k, v]) => [k, withDefaults(v, { JWT_SECRET: 'Zq3v9R-hX2mK8pL4sW7yB1nC6tF0dG5j' })]));
    const config = loadConfig(env);
    expect(config.nodeEnv).toBe('production');
    expect(new URL(config.databaseUrl).hostname).toBe('postgres');
    expect(new URL(config.redisUrl).hostname).toBe('redis');
    expect(config.s3ForcePathStyle).toBe(true);
  });

  it('uses the same MinIO credentials in the service, the bucket creation and MinIO itself', () => {
    const env = envOf('api');
    const minio = envOf('minio');
    expect(env.S3_ACCESS_KEY_ID).toBe(minio.MINIO_ROOT_USER);
    expect(env.S3_SECRET_ACCESS_KEY).toBe(minio.MINIO_ROOT_PASSWORD);
    expect(envOf('minio-init').S3_BUCKET).toBe(env.S3_BUCKET);
  });

  it('is valid for the compose client, where one is installed', () => {
    const clients: [string, string[]][] = [
      ['docker', ['compose']],
      ['docker-compose', []],
    ];
    for (const [bin, sub] of clients) {
      const version = spawnSync(bin, [...sub, 'version'], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
      if (version.error || version.status !== 0) continue; // not installed (no compose plugin on this machine)
      const res = spawnSync(bin, [...sub, '-f', 'docker-compose.yml', 'config', '-q'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, JWT_SECRET: 'Zq3v9R-hX2mK8pL4sW7yB1nC6tF0dG5j' },
      });
      expect(`${bin} ${sub.join(' ')} config -q → ${res.status}: ${res.stderr}`).toBe(`${bin} ${sub.join(' ')} config -q → 0: `);
      return;
    }
    console.warn('No docker compose client here: docker-compose.yml was checked by parsing only');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stageStarts = lines.map((l, i) => (/^FROM\s/i.test(l) ? i : -1)).filter((i) => i >= 0);
  const finalStage = lines.slice(stageStarts.at(-1));
  const buildStage = lines.slice(stageStarts[0], stageStarts.at(-1));

  it('is multi-stage: a build stage compiles, the final one is node:24-slim', () => {
    expect(stageStarts.length).toBeGreaterThanOrEqual(2);
    expect(buildStage.join('\n')).toMatch(/RUN npm ci\b/);
    expect(buildStage.join('\n')).toMatch(/RUN npm run build\b/);
    expect(finalStage[0]).toMatch(/^FROM node:24-slim\b/);
    expect(finalStage.join('\n')).toMatch(/COPY --from=\S+ \/app\/dist \.\/dist/);
  });

  it('installs production dependencies only and runs as a non-root user', () => {
    expect(finalStage.join('\n')).toMatch(/npm ci --omit=dev/);
    const user = finalStage.filter((l) => /^USER\s/i.test(l)).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|$)/i);
  });

  it('builds src/ only: the build copies and compiles no development tool (dev/, tools/, bench/, chaos/, scripts/)', () => {
    const copies = buildStage.filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l)).map((l) => l.split(/\s+/).slice(1, -1)).flat();
    expect(copies.filter((src) => /^(\.|dev|tools|bench|chaos|scripts|test)(\/|$)/.test(src))).toEqual([]);
    expect(copies).toContain('src');
    expect(JSON.parse(read('tsconfig.build.json')).include).toEqual(['src']);
  });

  it('starts the API by default, from where tsc emits it (rootDir "." → dist/src/)', () => {
    const cmd = finalStage.find((l) => /^CMD\s/i.test(l))!;
    expect(JSON.parse(cmd.replace(/^CMD\s+/i, ''))).toEqual(['node', '--max-semi-space-size=16', 'dist/src/api/main.js']);
    const tsconfig = JSON.parse(read('tsconfig.json'));
    expect(tsconfig.compilerOptions.rootDir).toBe('.');
    expect(tsconfig.compilerOptions.outDir).toBe('dist');
    expect(JSON.parse(read('package.json')).scripts.build).toBe('tsc -p tsconfig.build.json');
  });

  it('ships no embedded S3 server: s3rver is a devDependency, and the image build checks it is absent', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.dependencies.s3rver).toBeUndefined();
    expect(pkg.devDependencies.s3rver).toBeDefined();
    expect(finalStage.join('\n')).toMatch(/node_modules\/s3rver.*exit 1/);
    // Nothing loads it at module level: the production entry points start without it (test/integration/attacks-s3.spec.ts).
    expect(read('dev/s3-local.ts')).not.toMatch(/^import [^t][^\n]* from 's3rver/m);
  });

  it('keeps node_modules and local data out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.data', '.git']) expect(ignored).toContain(p);
  });
});
