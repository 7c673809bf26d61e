/**
 * Attack suite, part 1: the platform's own surfaces (issue 9, findings 1
 * and 7). What a tenant — even its ADMIN — and an anonymous caller see of the
 * queue dashboard and the probes; what the operator may do with OPS_TOKEN.
 */
import { randomUUID } from 'node:crypto';
import { Role } from '../../src/entities/enums';
import { EXPORT_QUEUE_NAME } from '../../src/exports/queue';
import { createTenant } from '../factories';
import { TestApp, startTestApp } from '../helpers/app';

const OPS_TOKEN = `ops-${randomUUID()}`;
const origin = (app: TestApp) => app.url.replace(/\/graphql$/, '');
const PAUSE = `/admin/queues/api/queues/${EXPORT_QUEUE_NAME}/pause`;
const RESUME = `/admin/queues/api/queues/${EXPORT_QUEUE_NAME}/resume`;

describe('the queue dashboard without OPS_TOKEN', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ role: 'api' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('is off: 404 to everyone, a tenant ADMIN included, and nothing can be paused', async () => {
    const tenantId = await createTenant(app.running.services.dataSource, 'École sans opérateur');
    const admin = app.token(tenantId, [Role.ADMIN]);
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${admin}` }, { authorization: `Basic ${Buffer.from(`x:${admin}`).toString('base64')}` }]) {
      expect((await fetch(`${origin(app)}/admin/queues`, { headers })).status).toBe(404);
      expect((await fetch(`${origin(app)}${PAUSE}`, { method: 'PUT', headers })).status).toBe(404);
    }
    expect(await app.running.services.queues.main.isPaused()).toBe(false);
  });
});

describe('the queue dashboard with OPS_TOKEN (read-only by default)', () => {
  let app: TestApp;
  let tenantId: string;
  beforeAll(async () => {
    app = await startTestApp({ role: 'api', env: { OPS_TOKEN } });
    tenantId = await createTenant(app.running.services.dataSource, 'École avec opérateur');
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("refuses a tenant ADMIN's valid token, as Bearer and as basic-auth password: 401, no page, no job list", async () => {
    const admin = app.token(tenantId, [Role.ADMIN]);
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/api/redis/stats']) {
      const bearer = await fetch(`${origin(app)}${path}`, { headers: { authorization: `Bearer ${admin}` } });
      expect(`${path}: ${bearer.status}`).toBe(`${path}: 401`);
      expect(await bearer.text()).not.toMatch(/invoice-exports|<html|redis_version/i);
      const basic = await fetch(`${origin(app)}${path}`, { headers: { authorization: `Basic ${Buffer.from(`admin:${admin}`).toString('base64')}` } });
      expect(basic.status).toBe(401);
    }
    const pause = await fetch(`${origin(app)}${PAUSE}`, { method: 'PUT', headers: { authorization: `Bearer ${admin}` } });
    expect(pause.status).toBe(401);
    expect(await app.running.services.queues.main.isPaused()).toBe(false);
  });

  it('refuses a near-miss of OPS_TOKEN (one character off, a prefix)', async () => {
    for (const guess of [`${OPS_TOKEN.slice(0, -1)}x`, OPS_TOKEN.slice(0, 20), `${OPS_TOKEN}x`]) {
      expect((await fetch(`${origin(app)}/admin/queues`, { headers: { authorization: `Bearer ${guess}` } })).status).toBe(401);
    }
  });

  it('lets the operator look, but not pause the queue: PUT pause → 403 and the queue keeps running', async () => {
    const auth = { authorization: `Bearer ${OPS_TOKEN}` };
    const page = await fetch(`${origin(app)}/admin/queues`, { headers: auth });
    expect(page.status).toBe(200);
    expect(page.headers.get('x-powered-by')).toBeNull();
    const queues = await fetch(`${origin(app)}/admin/queues/api/queues`, { headers: auth });
    expect(queues.status).toBe(200);
    const body = (await queues.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.find((q) => q.name === EXPORT_QUEUE_NAME)?.readOnlyMode).toBe(true);

    for (const [method, path] of [
      ['PUT', PAUSE],
      ['PUT', '/admin/queues/api/queues/pause'],
      ['PUT', `/admin/queues/api/queues/${EXPORT_QUEUE_NAME}/clean/completed`],
      ['PUT', `/admin/queues/api/queues/${EXPORT_QUEUE_NAME}/obliterate`],
      ['POST', `/admin/queues/api/queues/${EXPORT_QUEUE_NAME}/add`],
      ['DELETE', `/admin/queues/api/queues/${EXPORT_QUEUE_NAME}/job-schedulers/x`],
    ]) {
      const res = await fetch(`${origin(app)}${path}`, { method, headers: auth });
      expect(`${method} ${path}: ${res.status}`).toBe(`${method} ${path}: 403`);
    }
    expect(await app.running.services.queues.main.isPaused()).toBe(false);
  });
});

describe('the queue dashboard with OPS_DASHBOARD_WRITE=true', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ role: 'api', env: { OPS_TOKEN, OPS_DASHBOARD_WRITE: 'true' } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('lets the operator pause and resume the queue, and only the operator', async () => {
    const queue = app.running.services.queues.main;
    const tenantAdmin = app.token(randomUUID(), [Role.ADMIN]);
    expect((await fetch(`${origin(app)}${PAUSE}`, { method: 'PUT', headers: { authorization: `Bearer ${tenantAdmin}` } })).status).toBe(401);
    expect(await queue.isPaused()).toBe(false);

    const auth = { authorization: `Bearer ${OPS_TOKEN}` };
    const paused = await fetch(`${origin(app)}${PAUSE}`, { method: 'PUT', headers: auth });
    expect(paused.status).toBe(200);
    expect(await queue.isPaused()).toBe(true);
    const resumed = await fetch(`${origin(app)}${RESUME}`, { method: 'PUT', headers: auth });
    expect(resumed.status).toBe(200);
    expect(await queue.isPaused()).toBe(false);
  });
});

describe('probes and headers', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ role: 'api', env: { OPS_TOKEN } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('/readyz tells anyone which dependency is down, never its raw error; the operator gets the error', async () => {
    await app.s3.stop({ keepFiles: true });
    const anon = await fetch(`${origin(app)}/readyz`);
    expect(anon.status).toBe(503);
    const body: any = await anon.json();
    expect(body).toEqual({ ready: false, checks: { postgres: { ok: true }, redis: { ok: true }, s3: { ok: false } } });
    const op: any = await (await fetch(`${origin(app)}/readyz`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } })).json();
    expect(op.checks.s3.ok).toBe(false);
    expect(typeof op.checks.s3.error).toBe('string');
    // A tenant token is not the operator's.
    const tenant: any = await (await fetch(`${origin(app)}/readyz`, { headers: { authorization: `Bearer ${app.token(randomUUID(), [Role.ADMIN])}` } })).json();
    expect(tenant.checks.s3).toEqual({ ok: false });
  });

  it('no X-Powered-By anywhere, and malformed JSON gets a JSON error without a stack trace', async () => {
    for (const path of ['/healthz', '/readyz', '/graphql', '/admin/queues', '/nowhere']) {
      const res = await fetch(`${origin(app)}${path}`);
      expect(`${path}: ${res.headers.get('x-powered-by')}`).toBe(`${path}: null`);
    }
    for (const body of ['{"query": ', '{"query": "{ __typename }"', 'not json', '\u0000']) {
      const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('x-powered-by')).toBeNull();
      const text = await res.text();
      expect(text).not.toMatch(/<html|<pre|\s+at\s|node_modules|SyntaxError: Unexpected/i);
      expect(JSON.parse(text).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });
});
