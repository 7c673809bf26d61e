/**
 * Attack suite, part 3: the WebSocket (issue 9, findings 5 and 7). Four
 * unauthenticated 99 MB connection_init messages took the API from 589 MB
 * to 1.06 GB; one socket could open 500 subscriptions; a subscription kept
 * receiving states, fresh download URLs included, after its token expired.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { Client, createClient } from 'graphql-ws';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { Role } from '../../src/entities/enums';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp } from '../helpers/app';
import { runTs } from '../helpers/processes';
import { startTestS3 } from '../helpers/s3';
import { followExport, wsClient } from '../helpers/ws';

const REQUEST = 'mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { id status } }';

/** A raw socket speaking graphql-transport-ws; resolves with the close code and how long it took. */
function rawSocket(url: string): { ws: WebSocket; closed: Promise<{ code: number; reason: string; ms: number }> } {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const started = Date.now();
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string; ms: number }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), ms: Date.now() - started })),
  );
  return { ws, closed };
}
/** Upgrades a raw TCP socket, announces a text frame of `size` bytes and sends it until the server cuts the connection. */
function oversizedFrame(port: number, size: number): Promise<{ sent: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let sent = 0;
    let upgraded = false;
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    const pump = () => {
      while (sent < size && !sock.destroyed) {
        sent += chunk.length;
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
    };
    sock.on('error', () => undefined);
    sock.on('close', () => resolve({ sent, ms: Date.now() - started }));
    sock.once('data', (d) => {
      if (!/^HTTP\/1\.1 101/.test(d.toString())) return reject(new Error(`no upgrade: ${d.toString().split('\r\n')[0]}`));
      upgraded = true;
      const header = Buffer.alloc(14);
      header[0] = 0x81; // FIN, text
      header[1] = 0x80 | 127; // masked, 64-bit length
      header.writeBigUInt64BE(BigInt(size), 2);
      header.writeUInt32BE(0, 10); // masking key 0
      sock.write(header);
      pump();
    });
    sock.write(
      'GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`,
    );
    setTimeout(() => (upgraded ? undefined : reject(new Error('no upgrade within 5 s'))), 5000).unref();
  });
}

const opened = (ws: WebSocket) => new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));

describe('oversized connection_init against a separate API process', () => {
  it('four frames announcing 99 MB connection_init messages are cut at once and the API does not grow', async () => {
    const s3 = await startTestS3();
    const api = runTs('src/api/main.ts', { ...s3.env, PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'production' });
    try {
      const port = /"url":"http:\/\/localhost:(\d+)\/graphql"/.exec(await api.waitFor(/"url":"http:\/\/localhost:\d+\/graphql"/, 30_000))![1];
      const wsUrl = `ws://127.0.0.1:${port}/graphql`;
      // Warm up (one ordinary refused socket) before measuring.
      const warm = rawSocket(wsUrl);
      await opened(warm.ws);
      warm.ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
      await warm.closed;
      const before = api.memory().current;

      // Four raw frames announcing 99 MB each (masked with a zero key, so the
      // bytes go out as they are), fed 1 MB at a time until the API cuts them.
      const results = await Promise.all(Array.from({ length: 4 }, () => oversizedFrame(Number(port), 99 * 1024 * 1024)));
      await new Promise((r) => setTimeout(r, 300));
      const after = api.memory();
      console.log(
        `oversized connection_init: 4 × 99 MB; API RSS ${(before / 1048576).toFixed(0)} MB before, ${(after.current / 1048576).toFixed(0)} MB after ` +
          `(peak ${(after.peak / 1048576).toFixed(0)} MB); cut after ${results.map((r) => `${(r.sent / 1048576).toFixed(0)} MB sent in ${r.ms} ms`).join(', ')}`,
      );
      for (const r of results) expect(r.sent).toBeLessThan(20 * 1024 * 1024); // cut long before 99 MB
      for (const r of results) expect(r.ms).toBeLessThan(5000);
      // Without the limit, the four messages alone are 396 MB held in memory.
      expect(after.current - before).toBeLessThan(64 * 1024 * 1024);
      expect(after.peak - before).toBeLessThan(128 * 1024 * 1024);
      // Still serving.
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await api.kill('SIGKILL');
      await s3.stop();
    }
  }, 90_000);
});

describe('WebSocket limits on one API', () => {
  let app: TestApp;
  let tenantId: string;
  let exportId: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    app = await startTestApp({ role: 'api' }); // no worker: the export stays QUEUED and its subscriptions open
    const ds = app.running.services.dataSource;
    tenantId = await createTenant(ds, 'École WebSocket');
    const payerId = await createPayer(ds, tenantId, { lastName: 'NORWAY', firstName: 'Julien' });
    const invoiceId = await createInvoice(ds, tenantId, { number: 'F000001', billingDate: '2019-01-10', payerId, lines: [{ unitPrice: '10.00' }] });
    const res = await app.gql(REQUEST, { input: { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: [invoiceId] } } }, app.token(tenantId));
    expect(res.errors).toBeUndefined();
    exportId = res.data.requestInvoiceExport.id;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('a socket that never sends connection_init is closed after 3 s (4408)', async () => {
    const s = rawSocket(app.wsUrl);
    await opened(s.ws);
    const closed = await s.closed;
    expect(closed.code).toBe(4408);
    expect(closed.ms).toBeGreaterThanOrEqual(2500);
    expect(closed.ms).toBeLessThan(6000);
  });

  it('a 70 KB message (over WS_MAX_PAYLOAD_BYTES) closes the socket with 1009, authenticated or not', async () => {
    const s = rawSocket(app.wsUrl);
    await opened(s.ws);
    s.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${app.token(tenantId)}`, pad: 'x'.repeat(70 * 1024) } }));
    expect((await s.closed).code).toBe(1009);
  });

  it(`one socket may hold WS_MAX_SUBSCRIPTIONS (20) subscriptions; the 21st is refused and the others stay open`, async () => {
    const client = wsClient(app.wsUrl, app.token(tenantId));
    clients.push(client);
    const follows = Array.from({ length: 20 }, () => followExport(client, exportId));
    await Promise.all(follows.map((f) => f.until((e) => e.status === 'QUEUED')));
    const refused = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: `subscription { invoiceExportUpdated(id: "${exportId}") { id } }` }, { next: () => undefined, error: resolve, complete: () => resolve('completed') });
    });
    expect(JSON.stringify(refused)).toMatch(/WS_MAX_SUBSCRIPTIONS/);
    expect((refused as { extensions?: { code?: string } }[])[0].extensions?.code).toBe('BAD_USER_INPUT');
    // The 20 are still live: a cancellation reaches every one of them.
    await app.gql('mutation($id: ID!) { cancelInvoiceExport(id: $id) { status } }', { id: exportId }, app.token(tenantId));
    const finals = await Promise.all(follows.map((f) => f.done));
    for (const events of finals) expect(events.at(-1)!.status).toBe('CANCELLED');
  });

  it('the cost limits apply over the socket too', async () => {
    const client = wsClient(app.wsUrl, app.token(tenantId));
    clients.push(client);
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: invoices(first: 1) { totalCount }`).join(' ')} }`;
    const err = await new Promise<unknown>((resolve) => client.subscribe({ query }, { next: () => undefined, error: resolve, complete: () => resolve('completed') }));
    expect(JSON.stringify(err)).toMatch(/GRAPHQL_MAX_ALIASES/);
    const nul = await new Promise<unknown>((resolve) =>
      client.subscribe({ query: 'query($s: String) { invoices(filter: { search: $s }) { totalCount } }', variables: { s: '\u0000' } }, { next: () => undefined, error: resolve, complete: () => resolve('completed') }),
    );
    expect(JSON.stringify(nul)).toMatch(/control character/);
  });

  it('an open subscription is closed with 4401 when its token expires (exp in 2 s)', async () => {
    // A fresh export, still QUEUED, to follow.
    const ds = app.running.services.dataSource;
    const payerId = await createPayer(ds, tenantId, { lastName: 'EXP', firstName: 'Iré' });
    const invoiceId = await createInvoice(ds, tenantId, { number: `F9${Date.now() % 100000}`, billingDate: '2019-02-10', payerId, lines: [{ unitPrice: '1.00' }] });
    const req = await app.gql(REQUEST, { input: { kind: 'INVOICES', selection: { invoiceIds: [invoiceId] } } }, app.token(tenantId));
    const id = req.data.requestInvoiceExport.id;

    const token = jwt.sign({ sub: 'short-lived', tenantId, roles: [Role.ACCOUNTANT] }, app.config.jwtSecret, { algorithm: 'HS256', expiresIn: 2 });
    const started = Date.now();
    const client = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });
    clients.push(client);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => client.on('closed', (e) => resolve(e as { code: number; reason: string })));
    const seen: unknown[] = [];
    client.subscribe({ query: `subscription { invoiceExportUpdated(id: "${id}") { id status } }` }, { next: (v) => seen.push(v), error: () => undefined, complete: () => undefined });
    const event = await closed;
    const ms = Date.now() - started;
    console.log(`subscription closed ${ms} ms after a token with exp in 2 s: ${event.code} ${event.reason}`);
    expect(seen.length).toBeGreaterThanOrEqual(1); // it ran until then
    expect(event.code).toBe(4401);
    expect(String(event.reason)).toMatch(/expired/);
    expect(ms).toBeGreaterThan(800);
    expect(ms).toBeLessThan(4000);
    await new Promise((r) => setTimeout(r, 300)); // let the closed subscription unsubscribe from Redis before the app stops
  });
});

describe('VIEWER and download URLs (finding 7)', () => {
  it('a VIEWER sees a completed export but never its download URL, over HTTP and the socket; an ACCOUNTANT gets one', async () => {
    const app = await startTestApp({ role: 'all' });
    try {
      const ds = app.running.services.dataSource;
      const tenantId = await createTenant(ds, 'École VIEWER');
      const payerId = await createPayer(ds, tenantId, { lastName: 'BUSSON', firstName: 'Marie' });
      const invoiceId = await createInvoice(ds, tenantId, { number: 'F000001', billingDate: '2019-01-10', payerId, lines: [{ unitPrice: '10.00' }] });
      const viewer = app.token(tenantId, [Role.VIEWER]);
      const refused = await app.gql(REQUEST, { input: { kind: 'INVOICES', selection: { invoiceIds: [invoiceId] } } }, viewer);
      expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');

      const accountant = app.token(tenantId, [Role.ACCOUNTANT]);
      const req = await app.gql(REQUEST, { input: { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: [invoiceId] } } }, accountant);
      const id = req.data.requestInvoiceExport.id;
      const client = wsClient(app.wsUrl, accountant);
      await followExport(client, id).done;
      await client.dispose();

      const q = 'query($id: ID!) { invoiceExport(id: $id) { status downloadUrl downloadUrlExpiresAt } invoiceExports(first: 5) { edges { node { id downloadUrl } } } }';
      const asViewer = await app.gql(q, { id }, viewer);
      expect(asViewer.errors).toBeUndefined();
      expect(asViewer.data.invoiceExport).toEqual({ status: 'COMPLETED', downloadUrl: null, downloadUrlExpiresAt: null });
      expect(asViewer.data.invoiceExports.edges).toEqual([{ node: { id, downloadUrl: null } }]);
      const viewerSocket = wsClient(app.wsUrl, viewer);
      const viaSocket = await new Promise<any>((resolve, reject) =>
        viewerSocket.subscribe({ query: `subscription { invoiceExportUpdated(id: "${id}") { status downloadUrl } }` }, { next: resolve, error: reject, complete: () => undefined }),
      );
      await viewerSocket.dispose();
      await new Promise((r) => setTimeout(r, 300));
      expect(viaSocket.data.invoiceExportUpdated).toEqual({ status: 'COMPLETED', downloadUrl: null });

      const asAccountant = await app.gql(q, { id }, accountant);
      expect(asAccountant.data.invoiceExport.downloadUrl).toMatch(/^http/);
      expect((await fetch(asAccountant.data.invoiceExport.downloadUrl)).status).toBe(200);
    } finally {
      await app.stop();
    }
  }, 60_000);
});

it('a random tenant uuid cannot open a socket (the tenant must exist)', async () => {
  const app = await startTestApp({ role: 'api' });
  try {
    const client = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${app.token(randomUUID())}` }, retryAttempts: 0, lazy: true });
    const event = await new Promise<{ code: number }>((resolve) => {
      client.on('closed', (e) => resolve(e as { code: number }));
      client.subscribe({ query: '{ invoices(first: 1) { totalCount } }' }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    });
    expect(event.code).toBe(4401);
    await client.dispose();
  } finally {
    await app.stop();
  }
});
