/**
 * The audit trail (issue 20, SECURITY.md): every recorded action with its
 * actor, ADMIN only, one tenant's alone, append-only, and nothing of the
 * payers in it. Real PostgreSQL, Redis, S3 and worker.
 */
import { DataSource } from 'typeorm';
import { sweepAuditEvents } from '../../src/audit/retention';
import { Role } from '../../src/entities/enums';
import { RunningWorker, startWorker } from '../../src/worker/worker';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp } from '../helpers/app';

const EVENTS = `query($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id action actor roles targetType targetId at requestId } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const REQUEST = 'mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { id status } }';

/** What identifies the payers of tenant A: none of it may reach an audit row. */
const PAYER = { lastName: 'ZÉPHYRINE', firstName: 'Anastasie', customerIdentifier: 'CLI-77-SECRET', familyQuotient: '1234.56' };

let app: TestApp;
let ds: DataSource;
let worker: RunningWorker | undefined;
let tenantA: string;
let tenantB: string;
let payerId: string;
let invoiceIds: string[];

beforeAll(async () => {
  app = await startTestApp({ role: 'api', env: { EXPORT_RATE_LIMIT_PER_MINUTE: '3' } });
  ds = app.running.services.dataSource;
  tenantA = await createTenant(ds, 'École A (audit)');
  tenantB = await createTenant(ds, 'École B (audit)');
  payerId = await createPayer(ds, tenantA, PAYER);
  invoiceIds = [];
  for (const n of [1, 2, 3]) {
    invoiceIds.push(await createInvoice(ds, tenantA, { number: `F00000${n}`, billingDate: '2026-01-10', payerId, lines: [{ unitPrice: '120.00' }] }));
  }
});

afterAll(async () => {
  await worker?.close(1000);
  await app?.stop();
});

/** POST /graphql as `user` of `tenant`, with a request id of our own. */
async function gql(tenant: string, user: string, roles: Role[], query: string, variables: Record<string, unknown> = {}, requestId?: string) {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${app.token(tenant, roles, user)}`,
      ...(requestId ? { 'x-request-id': requestId } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

const adminOf = (tenant: string, variables: Record<string, unknown> = {}) => gql(tenant, 'admin-1', [Role.ADMIN], EVENTS, variables);

async function waitCompleted(id: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const res = await gql(tenantA, 'acc-1', [Role.ACCOUNTANT], 'query($id: ID!) { invoiceExport(id: $id) { status } }', { id });
    if (res.data?.invoiceExport.status === 'COMPLETED') return;
    if (['FAILED', 'CANCELLED'].includes(res.data?.invoiceExport.status)) throw new Error(`export ${id} ${res.data?.invoiceExport.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`export ${id} did not complete`);
}

describe('every listed action is recorded with its actor', () => {
  let cancelled: string;
  let completed: string;

  beforeAll(async () => {
    // Requested (a filter with a search for a payer's name), then cancelled while queued: no worker yet.
    const req = await gql(tenantA, 'acc-1', [Role.ACCOUNTANT], REQUEST,
      { input: { kind: 'INVOICES', format: 'CSV', selection: { filter: { search: PAYER.lastName, types: ['INVOICE'] } } } }, 'req-request-1');
    expect(req.errors).toBeUndefined();
    cancelled = req.data.requestInvoiceExport.id;
    const cancel = await gql(tenantA, 'acc-1', [Role.ACCOUNTANT], 'mutation($id: ID!) { cancelInvoiceExport(id: $id) { status } }', { id: cancelled }, 'req-cancel-1');
    expect(cancel.data.cancelInvoiceExport.status).toBe('CANCELLED');

    // An accounting export that completes, its URL read twice, its transfer reverted.
    worker = await startWorker(app.running.services);
    const acc = await gql(tenantA, 'acc-1', [Role.ACCOUNTANT], REQUEST, { input: { kind: 'ACCOUNTING_ENTRIES', selection: { invoiceIds } } });
    expect(acc.errors).toBeUndefined();
    completed = acc.data.requestInvoiceExport.id;
    await waitCompleted(completed);
    for (const rid of ['req-dl-1', 'req-dl-2']) {
      const dl = await gql(tenantA, 'acc-1', [Role.ACCOUNTANT], 'query($id: ID!) { invoiceExport(id: $id) { downloadUrl } }', { id: completed }, rid);
      expect(dl.data.invoiceExport.downloadUrl).toMatch(/^http/);
    }
    const revert = await gql(tenantA, 'admin-1', [Role.ADMIN], 'mutation($id: ID!) { revertAccountingTransfer(exportId: $id) { id } }', { id: completed }, 'req-revert-1');
    expect(revert.errors).toBeUndefined();
    const settings = await gql(tenantA, 'admin-1', [Role.ADMIN], 'mutation { updateAccountingSettings(input: { journalCode: "VE" }) { journalCode } }', {}, 'req-settings-1');
    expect(settings.data.updateAccountingSettings.journalCode).toBe('VE');

    // A user over the rate (3 a minute): the fourth request is refused, and recorded.
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await gql(tenantA, 'hasty', [Role.ACCOUNTANT], REQUEST, { input: { kind: 'INVOICES', selection: { invoiceIds: [invoiceIds[0]] } } }, `req-hasty-${i}`);
      codes.push(r.errors?.[0]?.extensions?.code);
    }
    expect(codes).toEqual([undefined, undefined, undefined, 'RATE_LIMITED']);
  });

  it('auditEvents lists them newest first, each with its actor, roles, target and request id', async () => {
    const res = await adminOf(tenantA, { first: 200 });
    expect(res.errors).toBeUndefined();
    const events = res.data.auditEvents.edges.map((e: any) => e.node);
    const ats = events.map((e: any) => Date.parse(e.at));
    expect([...ats].sort((a, b) => b - a)).toEqual(ats);
    const find = (action: string, requestId?: string) => events.filter((e: any) => e.action === action && (!requestId || e.requestId === requestId));
    expect(find('EXPORT_REQUESTED', 'req-request-1')).toEqual([
      expect.objectContaining({ actor: 'acc-1', roles: ['ACCOUNTANT'], targetType: 'EXPORT', targetId: cancelled }),
    ]);
    expect(find('EXPORT_CANCELLED')).toEqual([expect.objectContaining({ actor: 'acc-1', targetId: cancelled, requestId: 'req-cancel-1' })]);
    expect(find('DOWNLOAD_URL_ISSUED').map((e: any) => [e.actor, e.targetId, e.requestId]).sort()).toEqual([
      ['acc-1', completed, 'req-dl-1'],
      ['acc-1', completed, 'req-dl-2'],
    ]);
    expect(find('TRANSFER_REVERTED')).toEqual([expect.objectContaining({ actor: 'admin-1', roles: ['ADMIN'], targetId: completed, requestId: 'req-revert-1' })]);
    expect(find('ACCOUNTING_SETTINGS_CHANGED')).toEqual([
      expect.objectContaining({ actor: 'admin-1', targetType: 'ACCOUNTING_SETTINGS', targetId: tenantA, requestId: 'req-settings-1' }),
    ]);
    expect(find('EXPORT_REFUSED')).toEqual([expect.objectContaining({ actor: 'hasty', requestId: 'req-hasty-3', targetId: null })]);
    // 1 + 1 + 3 accepted requests of `hasty`.
    expect(find('EXPORT_REQUESTED')).toHaveLength(5);
  });

  it('the rows hold the details an auditor needs: kind, format, counts, settings before/after', async () => {
    const rows: { action: string; details: any; ip: string | null }[] = await ds.query(
      `SELECT action, details, ip FROM audit_events WHERE tenant_id = $1 ORDER BY at`, [tenantA]);
    const requested = rows.find((r) => r.action === 'EXPORT_REQUESTED')!;
    expect(requested.details).toEqual({
      kind: 'INVOICES', format: 'CSV', locale: 'fr-FR', expectedRows: 3,
      selection: { mode: 'filter', documents: 3, excluded: 0, filter: { types: ['INVOICE'] }, withheldFields: ['search'] },
    });
    expect(requested.ip).toMatch(/127\.0\.0\.1/);
    expect(rows.find((r) => r.action === 'ACCOUNTING_SETTINGS_CHANGED')!.details).toEqual({ before: { journalCode: 'VT' }, after: { journalCode: 'VE' } });
    expect(rows.find((r) => r.action === 'TRANSFER_REVERTED')!.details).toEqual({ documents: 3 });
    expect(rows.find((r) => r.action === 'EXPORT_REFUSED')!.details).toMatchObject({ code: 'RATE_LIMITED', kind: 'INVOICES' });
  });

  it('nothing of the payers is in any row: no name, customer identifier, family quotient or payer id', async () => {
    const rows = await ds.query(`SELECT * FROM audit_events WHERE tenant_id = $1`, [tenantA]);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    const text = JSON.stringify(rows);
    for (const secret of [PAYER.lastName, PAYER.firstName, PAYER.customerIdentifier, PAYER.familyQuotient, payerId, ...invoiceIds]) {
      expect(text).not.toContain(secret);
    }
  });

  it('filters: actions, actor, targetId, from/to; and pages with first/after without overlap', async () => {
    const only = async (filter: Record<string, unknown>) =>
      (await adminOf(tenantA, { filter, first: 200 })).data.auditEvents.edges.map((e: any) => e.node);
    expect(await only({ actions: ['DOWNLOAD_URL_ISSUED'] })).toHaveLength(2);
    expect((await only({ actor: 'admin-1' })).map((e: any) => e.action).sort()).toEqual(['ACCOUNTING_SETTINGS_CHANGED', 'TRANSFER_REVERTED']);
    expect((await only({ targetId: cancelled })).map((e: any) => e.action)).toEqual(['EXPORT_CANCELLED', 'EXPORT_REQUESTED']);
    expect(await only({ from: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect((await only({ to: new Date(Date.now() + 60_000).toISOString() })).length).toBeGreaterThanOrEqual(10);
    const all = await only({});
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = (await adminOf(tenantA, { first: 3, after })).data.auditEvents;
      seen.push(...page.edges.map((e: any) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(all.map((e: any) => e.id));
  });

  it('another tenant\'s admin sees none of it, not even by target id or cursor', async () => {
    const page = (await adminOf(tenantB, { first: 200 })).data.auditEvents;
    expect(page.edges).toEqual([]);
    expect((await adminOf(tenantB, { filter: { targetId: cancelled } })).data.auditEvents.edges).toEqual([]);
    const cursor = (await adminOf(tenantA, { first: 1 })).data.auditEvents.pageInfo.endCursor;
    expect((await adminOf(tenantB, { after: cursor })).data.auditEvents.edges).toEqual([]);
  });
});

it.each([[Role.ACCOUNTANT], [Role.VIEWER]])('%s is refused with FORBIDDEN', async (role) => {
  const res = await gql(tenantA, 'someone', [role], EVENTS);
  expect(res.data ?? null).toBeNull();
  expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
});

describe('append-only', () => {
  beforeAll(async () => {
    // Its sweep timer would race the explicit sweep below.
    await worker?.close(1000);
    worker = undefined;
  });

  it('the database refuses to update or delete a row; the retention sweep deletes only rows past AUDIT_RETENTION_DAYS', async () => {
    const [{ id }] = await ds.query(`SELECT id FROM audit_events WHERE tenant_id = $1 LIMIT 1`, [tenantA]);
    await expect(ds.query(`UPDATE audit_events SET actor = 'someone-else' WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(ds.query(`DELETE FROM audit_events WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
    await ds.query(
      `INSERT INTO audit_events (tenant_id, actor, roles, action, target_type, at) VALUES
       ($1, 'old', '{ADMIN}', 'EXPORT_REQUESTED', 'EXPORT', now() - interval '401 days'),
       ($1, 'kept', '{ADMIN}', 'EXPORT_REQUESTED', 'EXPORT', now() - interval '399 days')`,
      [tenantB],
    );
    // Even an old row needs the sweep.
    await expect(ds.query(`DELETE FROM audit_events WHERE actor = 'old'`)).rejects.toThrow(/append-only/);
    const countA = async () => Number((await ds.query(`SELECT count(*) AS n FROM audit_events WHERE tenant_id = $1`, [tenantA]))[0].n);
    const before = await countA();
    expect(await sweepAuditEvents(ds, app.config.auditRetentionDays)).toBe(1);
    const actors = (await ds.query(`SELECT actor FROM audit_events WHERE tenant_id = $1`, [tenantB])).map((r: any) => r.actor);
    expect(actors).toEqual(['kept']);
    expect(await countA()).toBe(before);
  });

  it("the worker's sweep timer applies AUDIT_RETENTION_DAYS", async () => {
    const t = await createTenant(ds, 'École ancienne');
    await ds.query(
      `INSERT INTO audit_events (tenant_id, actor, roles, action, target_type, at) VALUES
       ($1, 'old', '{ADMIN}', 'EXPORT_REQUESTED', 'EXPORT', now() - interval '500 days'),
       ($1, 'recent', '{ADMIN}', 'EXPORT_REQUESTED', 'EXPORT', now() - interval '10 days')`,
      [t],
    );
    worker = await startWorker(app.running.services); // its first pass sweeps at once
    let actors: string[] = [];
    for (let i = 0; i < 300; i++) {
      actors = (await ds.query(`SELECT actor FROM audit_events WHERE tenant_id = $1 ORDER BY actor`, [t])).map((r: any) => r.actor);
      if (actors.length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(actors).toEqual(['recent']);
  });

  it('erasing a tenant erases its trail', async () => {
    const t = await createTenant(ds, 'École effacée');
    await ds.query(`INSERT INTO audit_events (tenant_id, actor, roles, action, target_type) VALUES ($1, 'a', '{ADMIN}', 'EXPORT_REQUESTED', 'EXPORT')`, [t]);
    await ds.query(`DELETE FROM tenants WHERE id = $1`, [t]);
    expect(await ds.query(`SELECT 1 FROM audit_events WHERE tenant_id = $1`, [t])).toEqual([]);
  });
});
