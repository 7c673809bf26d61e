import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { signToken } from '../../src/auth/jwt';
import { Running, boot } from '../../src/boot';
import { Config, loadConfig } from '../../src/config';
import { Role } from '../../src/entities/enums';
import { TestS3, startTestS3 } from './s3';

export interface TestApp {
  running: Running;
  /** The tests' service signs HS256 tokens: its secret is always set. */
  config: Readonly<Config> & { jwtSecret: string };
  s3: TestS3;
  url: string;
  wsUrl: string;
  token(tenantId: string, roles?: Role[], userId?: string): string;
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ data?: T; errors?: GqlError[]; status: number }>;
  stop(): Promise<void>;
}

export interface GqlError {
  message: string;
  extensions?: { code?: string; [k: string]: unknown };
}

/** Test configuration: the test database, this file's queue prefix, a given S3. */
export function testConfig(s3: TestS3, env: Record<string, string> = {}): Readonly<Config> {
  return loadConfig({ ...process.env, ...s3.env, PORT: '0', ...env });
}

/**
 * The real service in this process: API and/or worker on the test database,
 * the local Redis and an s3rver of its own. `role: 'api'` leaves the worker
 * to another process.
 */
export async function startTestApp(opts: { role?: 'all' | 'api'; env?: Record<string, string>; s3?: TestS3 } = {}): Promise<TestApp> {
  const s3 = opts.s3 ?? (await startTestS3());
  const config = testConfig(s3, opts.env) as TestApp['config'];
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const running = await boot(opts.role ?? 'all', { config, logger });
  const url = `http://127.0.0.1:${running.port}/graphql`;
  const app: TestApp = {
    running,
    config,
    s3,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    token: (tenantId, roles = [Role.ACCOUNTANT], userId = `user-${tenantId.slice(0, 4)}`) =>
      signToken(config.jwtSecret, { tenantId, roles, userId }),
    async gql(query, variables, token) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: any; errors?: GqlError[] };
      return { ...body, status: res.status };
    },
    async stop() {
      await running.shutdown();
      if (!opts.s3) await s3.stop();
    },
  };
  return app;
}

export const uniqueName = (base: string) => `${base}-${randomUUID().slice(0, 8)}`;
