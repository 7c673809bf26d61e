import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import iconv from 'iconv-lite';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { Role } from '../../src/entities/enums';
import { createMailer, type Mailer } from '../../src/mail/mailer';
import { periodBefore } from '../../src/schedules/periods';
import { ScheduleRunner } from '../../src/schedules/runner';
import { RunningWorker, startWorker } from '../../src/worker/worker';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { ThrowawayRedis, startRedis } from '../helpers/redis';

/**
 * Scheduled sends (docs/profiles.md) end to end: a real SMTP server started here
 * receives the mails (parsed by mailparser), the runner's clock is moved by
 * the test, the export runs through the real worker, and the link in the
 * mail downloads the file through the API.
 */

const PROFILE = `mutation($input: ExportProfileInput!) { createExportProfile(input: $input) { id } }`;
const CREATE = `mutation($input: ExportScheduleInput!) { createExportSchedule(input: $input) { id nextRunAt enabled recipients profile { name } } }`;
const LIST = `{ exportSchedules { id nextRunAt lastRunStatus lastPeriodStart lastRun { id status } } }`;
const RUN_NOW = `mutation($id: ID!) { runExportScheduleNow(id: $id) { id status } }`;
const REVOKE = `mutation($id: ID!) { revokeExportLink(exportId: $id) }`;
const EVENTS = `query($filter: AuditEventFilter) { auditEvents(filter: $filter, first: 200) { edges { node { action actor roles targetType targetId } } } }`;

/** The tenant's audit rows of these actions, oldest first, with their details (the rows an auditor reads). */
async function auditRows(tenant: string, actions: string[]) {
  return (await ds.query(
    `SELECT action, actor, roles, target_type AS "targetType", target_id AS "targetId", details FROM audit_events
     WHERE tenant_id = $1 AND action = ANY($2::text[]) ORDER BY at, id`,
    [tenant, actions],
  )) as { action: string; actor: string; roles: string[]; targetType: string; targetId: string | null; details: any }[];
}

let redis: ThrowawayRedis;
let app: TestApp;
let worker: RunningWorker;
let ds: DataSource;
let smtp: SMTPServer;
let smtpUrl: string;
let mailer: Mailer;
const inbox: ParsedMail[] = [];
let clock = new Date();
let runner: ScheduleRunner;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Passes of the runner until `n` mails to `to` arrived. */
async function mailsTo(to: string, n: number): Promise<ParsedMail[]> {
  return waitFor(`${n} mail(s) to ${to}`, async () => {
    await runner.tick();
    const got = inbox.filter((m) => (m.to as { text: string }).text === to);
    return got.length >= n ? got : null;
  });
}

async function setup(name: string) {
  const tenant = await createTenant(ds, uniqueName(name));
  const admin = app.token(tenant, [Role.ADMIN], 'tresorier@ecole.example');
  const profile = await app.gql(PROFILE, {
    input: {
      name: 'Cabinet comptable',
      kind: 'INVOICES',
      format: 'CSV',
      columns: [{ key: 'number' }, { key: 'billingDate', header: 'Date' }, { key: 'amountDue', header: 'Montant' }],
      csv: { encoding: 'WINDOWS_1252', separator: ';', dateFormat: 'ddmmyyyy' },
      fileNamePattern: '{kind}-{date}',
    },
  }, admin);
  expect(profile.errors).toBeUndefined();
  return { tenant, admin, profileId: profile.data.createExportProfile.id as string };
}

async function createSchedule(admin: string, input: Record<string, unknown>) {
  const res = await app.gql(CREATE, { input: { cadence: 'MONTHLY', day: 1, hour: 6, selection: 'PREVIOUS_PERIOD', ...input } }, admin);
  expect(res.errors).toBeUndefined();
  return res.data.createExportSchedule as { id: string; nextRunAt: string };
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('bounce@')) return callback(Object.assign(new Error('No such mailbox'), { responseCode: 550 }));
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        inbox.push(mail);
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  redis = await startRedis();
  app = await startTestApp({ role: 'api', env: { REDIS_URL: redis.url, SMTP_URL: smtpUrl, MAIL_FROM: 'Exports <exports@ecole.example>' } });
  ds = app.running.services.dataSource;
  worker = await startWorker(app.running.services);
  mailer = createMailer(smtpUrl, app.config.mailFrom);
  runner = new ScheduleRunner({
    dataSource: ds,
    exports: app.running.services.exports,
    config: app.config,
    logger: app.running.logger,
    mailer,
    publicUrl: `http://127.0.0.1:${app.running.port}`,
    now: () => clock,
  });
}, 60_000);

afterAll(async () => {
  await runner?.stop();
  mailer?.close();
  await worker?.close(0);
  await app?.stop();
  await redis?.stop();
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

describe('a monthly send to the accountant', () => {
  let tenant: string;
  let admin: string;
  let scheduleId: string;
  let link: string;
  let exportId: string;

  it('runs when its time comes on the moved clock, and mails each recipient a link that downloads the file', async () => {
    ({ tenant, admin } = await setup('Conservatoire'));
    const profileId = (await app.gql(`{ exportProfiles { id } }`, {}, admin)).data.exportProfiles[0].id;
    const schedule = await createSchedule(admin, { profileId, recipients: ['cabinet@compta.example', 'assistant@compta.example'] });
    scheduleId = schedule.id;
    clock = new Date(new Date(schedule.nextRunAt).getTime() + 60_000);
    const period = periodBefore('MONTHLY', clock, 'Europe/Paris');
    const payer = await createPayer(ds, tenant, { lastName: 'DVOŘÁK', firstName: 'Zoé' });
    const inPeriod = (d: number) => `${period.start.slice(0, 8)}${String(d).padStart(2, '0')}`;
    await createInvoice(ds, tenant, { number: 'F000010', billingDate: inPeriod(5), payerId: payer, lines: [{ unitPrice: '120.00' }] });
    await createInvoice(ds, tenant, { number: 'F000011', billingDate: inPeriod(20), payerId: payer, lines: [{ unitPrice: '1000.50' }] });
    await createInvoice(ds, tenant, { number: 'F000009', billingDate: '2001-01-01', payerId: payer, lines: [{ unitPrice: '7.00' }] });

    // Not due yet one minute before.
    const due = clock;
    clock = new Date(due.getTime() - 120_000);
    await runner.tick();
    expect((await ds.query('SELECT count(*)::int AS n FROM export_schedule_runs WHERE schedule_id = $1', [scheduleId]))[0].n).toBe(0);
    clock = due;

    const [mail] = await mailsTo('cabinet@compta.example', 1);
    expect((await mailsTo('assistant@compta.example', 1)).length).toBe(1);
    expect(mail.from?.text).toContain('exports@ecole.example');
    expect(mail.subject).toContain(period.label);
    expect(mail.subject).toContain('Cabinet comptable');
    const text = mail.text ?? '';
    expect(text).toMatch(/Fichier : factures-\d{8}\.csv \(\d+ o\)/);
    expect(text).toContain('Lignes : 2');
    expect(text).toContain('2 facture(s), 0 avoir(s)');
    expect(text).toContain('Total dû : 1\u202f120,50 €');
    link = /Télécharger le fichier : (\S+)/.exec(text)![1];
    expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${app.running.port}/d/[A-Za-z0-9_-]{43}$`));

    // The link answers with a fresh presigned URL; the file is the profile's.
    const redirect = await fetch(link, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const file = Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer());
    expect(iconv.decode(file, 'windows-1252').split('\r\n').filter(Boolean)).toEqual([
      'N° de pièce;Date;Montant',
      `F000010;${inPeriod(5).slice(8, 10)}${inPeriod(5).slice(5, 7)}${inPeriod(5).slice(0, 4)};120,00`,
      `F000011;${inPeriod(20).slice(8, 10)}${inPeriod(20).slice(5, 7)}${inPeriod(20).slice(0, 4)};1000,50`,
    ]);
    // Each use is recorded; only the token's hash is stored.
    const [{ uses, hashes }] = await ds.query(
      `SELECT (SELECT count(*)::int FROM export_link_uses u JOIN export_links l ON l.id = u.link_id WHERE l.tenant_id = $1) AS uses,
              (SELECT count(*)::int FROM export_links WHERE tenant_id = $1 AND position($2::bytea in token_hash) > 0) AS hashes`,
      [tenant, Buffer.from(link.split('/d/')[1])],
    );
    expect(uses).toBe(1);
    expect(hashes).toBe(0);

    // An ordinary export, requested by the schedule, listed with the others.
    const list = (await app.gql(LIST, {}, app.token(tenant, [Role.VIEWER]))).data.exportSchedules;
    expect(list).toEqual([expect.objectContaining({ id: scheduleId, lastRunStatus: 'COMPLETED', lastPeriodStart: period.start })]);
    exportId = list[0].lastRun.id;
    const [exp] = await ds.query('SELECT requested_by, status FROM invoice_exports WHERE id = $1', [exportId]);
    expect(exp).toEqual({ requested_by: `schedule:${scheduleId}`, status: 'COMPLETED' });
    expect(new Date(list[0].nextRunAt).getTime()).toBeGreaterThan(clock.getTime());
  }, 60_000);

  it('a second trigger of the same period sends nothing and makes no second export', async () => {
    const before = inbox.length;
    // As if the timer fired again for the same period (a restart, another process).
    await ds.query('UPDATE export_schedules SET next_run_at = $2 WHERE id = $1', [scheduleId, new Date(clock.getTime() - 1000)]);
    clock = new Date(clock.getTime() + 3_600_000);
    for (let i = 0; i < 3; i++) await runner.tick();
    expect(inbox.length).toBe(before);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1`, [tenant]);
    expect(n).toBe(1);
  });

  it('runExportScheduleNow: ADMIN only; the same period twice returns the same export', async () => {
    const accountant = app.token(tenant, [Role.ACCOUNTANT]);
    expect((await app.gql(RUN_NOW, { id: scheduleId }, accountant)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // "Now" is the real clock: the period that ended last before today.
    const period = periodBefore('MONTHLY', new Date(), 'Europe/Paris');
    const payer = await createPayer(ds, tenant, {});
    await createInvoice(ds, tenant, { number: 'F000050', billingDate: period.end, payerId: payer, lines: [{ unitPrice: '50.00' }] });
    const first = await app.gql(RUN_NOW, { id: scheduleId }, admin);
    expect(first.errors).toBeUndefined();
    expect(first.data.runExportScheduleNow.id).toMatch(/^[0-9a-f-]{36}$/);
    const second = await app.gql(RUN_NOW, { id: scheduleId }, admin);
    expect(second.data.runExportScheduleNow.id).toBe(first.data.runExportScheduleNow.id);
    // Its mail goes out once the export completes (another period: a second mail), and only once.
    const mails = await mailsTo('cabinet@compta.example', 2);
    expect(mails[1].subject).toContain(period.label);
    await app.gql(RUN_NOW, { id: scheduleId }, admin);
    for (let i = 0; i < 3; i++) await runner.tick();
    expect(inbox.filter((m) => (m.to as { text: string }).text === 'cabinet@compta.example')).toHaveLength(2);
  });

  it('a revoked, expired or unknown link is a plain page, not a file', async () => {
    expect((await app.gql(REVOKE, { id: exportId }, app.token(tenant, [Role.VIEWER]))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const other = await createTenant(ds, uniqueName('other'));
    expect((await app.gql(REVOKE, { id: exportId }, app.token(other, [Role.ADMIN]))).data.revokeExportLink).toBe(false);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(302);
    expect((await app.gql(REVOKE, { id: exportId }, admin)).data.revokeExportLink).toBe(true);
    const revoked = await fetch(link, { redirect: 'manual' });
    expect(revoked.status).toBe(410);
    expect(revoked.headers.get('content-type')).toContain('text/html');
    expect(await revoked.text()).not.toMatch(/at .*\.ts|Error/);
    const unknown = await fetch(link.replace(/\/d\/.*/, `/d/${'A'.repeat(43)}`), { redirect: 'manual' });
    expect(unknown.status).toBe(404);
    expect((await fetch(link.replace(/\/d\/.*/, '/d/..%2f..%2fetc'), { redirect: 'manual' })).status).toBe(404);
    await ds.query(`UPDATE export_links SET revoked_at = NULL, expires_at = now() - interval '1 second' WHERE export_id = $1`, [exportId]);
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(410);
  });
});

describe('the audit trail of the links (docs/privacy.md)', () => {
  it('each GET of a link is EXPORT_LINK_USED by link:<id> with its outcome; a revoke by its ADMIN; refused or unknown ones record nothing', async () => {
    const { tenant, admin, profileId } = await setup('Audit des liens');
    // Disabled: only "run now" runs it, whatever the runner's moved clock.
    await createSchedule(admin, { profileId, recipients: ['journal@compta.example'], enabled: false });
    const payer = await createPayer(ds, tenant, { lastName: 'AUDITÉE' });
    const period = periodBefore('MONTHLY', new Date(), 'Europe/Paris');
    await createInvoice(ds, tenant, { number: 'F000070', billingDate: period.end, payerId: payer, lines: [{ unitPrice: '70.00' }] });
    const scheduleId = (await app.gql(`{ exportSchedules { id } }`, {}, admin)).data.exportSchedules[0].id;
    const exportId = (await app.gql(RUN_NOW, { id: scheduleId }, admin)).data.runExportScheduleNow.id;
    const [mail] = await mailsTo('journal@compta.example', 1);
    const url = /Télécharger le fichier : (\S+)/.exec(mail.text ?? '')![1];
    const [{ id: linkId }] = await ds.query(`SELECT id FROM export_links WHERE export_id = $1 AND token_hash = $2`, [
      exportId, createHash('sha256').update(url.split('/d/')[1]).digest(),
    ]);

    expect((await fetch(url, { redirect: 'manual' })).status).toBe(302);
    // Refused (VIEWER) and another tenant's (false): nothing revoked, nothing recorded.
    expect((await app.gql(REVOKE, { id: exportId }, app.token(tenant, [Role.VIEWER]))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const other = await createTenant(ds, uniqueName('other'));
    expect((await app.gql(REVOKE, { id: exportId }, app.token(other, [Role.ADMIN], 'intrus'))).data.revokeExportLink).toBe(false);
    expect(await auditRows(tenant, ['EXPORT_LINK_REVOKED'])).toEqual([]);
    expect(await auditRows(other, ['EXPORT_LINK_REVOKED', 'EXPORT_LINK_USED'])).toEqual([]);
    expect((await app.gql(REVOKE, { id: exportId }, admin)).data.revokeExportLink).toBe(true);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(410);
    expect((await fetch(url.replace(/\/d\/.*/, `/d/${'B'.repeat(43)}`), { redirect: 'manual' })).status).toBe(404);

    const rows = await auditRows(tenant, ['EXPORT_LINK_USED', 'EXPORT_LINK_REVOKED']);
    expect(rows).toEqual([
      { action: 'EXPORT_LINK_USED', actor: `link:${linkId}`, roles: [], targetType: 'EXPORT', targetId: exportId, details: { outcome: 302 } },
      { action: 'EXPORT_LINK_REVOKED', actor: 'tresorier@ecole.example', roles: ['ADMIN'], targetType: 'EXPORT', targetId: exportId, details: { links: [linkId] } },
      { action: 'EXPORT_LINK_USED', actor: `link:${linkId}`, roles: [], targetType: 'EXPORT', targetId: exportId, details: { outcome: 410, reason: 'revoked' } },
    ]);
    // The ADMIN reads them through auditEvents; no address and no payer in any row.
    const events = (await app.gql(EVENTS, { filter: { targetId: exportId } }, admin)).data.auditEvents.edges.map((e: any) => e.node.action);
    expect(events.filter((a: string) => a.startsWith('EXPORT_LINK'))).toEqual(['EXPORT_LINK_USED', 'EXPORT_LINK_REVOKED', 'EXPORT_LINK_USED']);
    expect(JSON.stringify(rows)).not.toMatch(/compta\.example|AUDITÉE/);
  }, 60_000);
});

describe('the audit trail of schedules and profiles', () => {
  it('created, changed and deleted are recorded with their actor and before/after; refused changes record nothing', async () => {
    const { tenant, admin, profileId } = await setup('Audit des envois');
    const accountant = app.token(tenant, [Role.ACCOUNTANT], 'comptable-1');
    const viewer = app.token(tenant, [Role.VIEWER], 'lecteur-1');
    const UPDATE = `mutation($id: ID!, $input: ExportScheduleInput!) { updateExportSchedule(id: $id, input: $input) { id } }`;
    const DELETE = `mutation($id: ID!) { deleteExportSchedule(id: $id) }`;
    const UPDATE_PROFILE = `mutation($id: ID!, $input: ExportProfileInput!) { updateExportProfile(id: $id, input: $input) { id } }`;
    const DELETE_PROFILE = `mutation($id: ID!) { deleteExportProfile(id: $id) }`;
    const input = { profileId, cadence: 'MONTHLY', day: 1, hour: 6, selection: 'PREVIOUS_PERIOD', recipients: ['cabinet@compta.example'] };
    const { id } = await createSchedule(admin, input);
    const changed = { ...input, hour: 7, recipients: ['cabinet@compta.example', 'assistant@compta.example'] };
    for (const token of [accountant, viewer]) {
      expect((await app.gql(UPDATE, { id, input: changed }, token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await app.gql(DELETE, { id }, token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    // Bad input changes nothing and records nothing either.
    expect((await app.gql(UPDATE, { id, input: { ...changed, hour: 24 } }, admin)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await app.gql(UPDATE, { id, input: changed }, admin)).errors).toBeUndefined();
    expect((await app.gql(DELETE, { id }, admin)).data.deleteExportSchedule).toBe(true);
    expect((await app.gql(DELETE, { id }, admin)).data.deleteExportSchedule).toBe(false);

    const profileInput = { name: 'Cabinet comptable', kind: 'INVOICES', format: 'CSV', filter: { types: ['INVOICE'], search: 'DUPONT' } };
    expect((await app.gql(UPDATE_PROFILE, { id: profileId, input: profileInput }, viewer)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await app.gql(DELETE_PROFILE, { id: profileId }, viewer)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await app.gql(UPDATE_PROFILE, { id: profileId, input: { ...profileInput, name: 'Cabinet Martin' } }, accountant)).errors).toBeUndefined();
    expect((await app.gql(DELETE_PROFILE, { id: profileId }, accountant)).data.deleteExportProfile).toBe(true);

    const rows = await auditRows(tenant, [
      'EXPORT_SCHEDULE_CREATED', 'EXPORT_SCHEDULE_CHANGED', 'EXPORT_SCHEDULE_DELETED', 'EXPORT_PROFILE_CREATED', 'EXPORT_PROFILE_CHANGED', 'EXPORT_PROFILE_DELETED',
    ]);
    expect(rows.map((r) => [r.action, r.actor, r.targetId])).toEqual([
      ['EXPORT_PROFILE_CREATED', 'tresorier@ecole.example', profileId],
      ['EXPORT_SCHEDULE_CREATED', 'tresorier@ecole.example', id],
      ['EXPORT_SCHEDULE_CHANGED', 'tresorier@ecole.example', id],
      ['EXPORT_SCHEDULE_DELETED', 'tresorier@ecole.example', id],
      ['EXPORT_PROFILE_CHANGED', 'comptable-1', profileId],
      ['EXPORT_PROFILE_DELETED', 'comptable-1', profileId],
    ]);
    const details = Object.fromEntries(rows.map((r) => [r.action, r.details]));
    expect(details.EXPORT_PROFILE_CREATED).toMatchObject({ name: 'Cabinet comptable', kind: 'INVOICES', format: 'CSV', fileNamePattern: '{kind}-{date}', filter: null });
    expect(details.EXPORT_SCHEDULE_CREATED).toMatchObject({ profileName: 'Cabinet comptable', cadence: 'MONTHLY', hour: 6, recipients: ['cabinet@compta.example'] });
    expect(details.EXPORT_SCHEDULE_CHANGED).toEqual({
      before: { hour: 6, recipients: ['cabinet@compta.example'] },
      after: { hour: 7, recipients: ['cabinet@compta.example', 'assistant@compta.example'] },
    });
    expect(details.EXPORT_SCHEDULE_DELETED).toMatchObject({ hour: 7, profileId });
    // The profile's filter: its plain values, the search for a payer named only.
    expect(details.EXPORT_PROFILE_CHANGED.before).toMatchObject({ name: 'Cabinet comptable', filter: null });
    expect(details.EXPORT_PROFILE_CHANGED.after).toMatchObject({ name: 'Cabinet Martin', filter: { filter: { types: ['INVOICE'] }, withheldFields: ['search'] } });
    expect(details.EXPORT_PROFILE_DELETED).toEqual({ name: 'Cabinet Martin', kind: 'INVOICES' });
    expect(JSON.stringify(rows)).not.toContain('DUPONT');
    expect((await app.gql(EVENTS, { filter: { actions: ['EXPORT_PROFILE_DELETED'] } }, admin)).data.auditEvents.edges).toEqual([
      { node: { action: 'EXPORT_PROFILE_DELETED', actor: 'comptable-1', roles: ['ACCOUNTANT'], targetType: 'EXPORT_PROFILE', targetId: profileId } },
    ]);
  });
});

describe('refusals', () => {
  it('only an ADMIN manages schedules; bad input is named', async () => {
    const { tenant, admin, profileId } = await setup('refus');
    const base = { profileId, recipients: ['a@b.example'] };
    for (const role of [Role.ACCOUNTANT, Role.VIEWER]) {
      const res = await app.gql(CREATE, { input: { cadence: 'MONTHLY', day: 1, hour: 6, selection: 'PREVIOUS_PERIOD', ...base } }, app.token(tenant, [role]));
      expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ day: 31 }, /day must be from 1 to 28/],
      [{ cadence: 'WEEKLY', day: 8 }, /weekday/],
      [{ hour: 24 }, /hour/],
      [{ recipients: [] }, /recipients is empty/],
      [{ recipients: Array.from({ length: 11 }, (_, i) => `r${i}@x.example`) }, /at most 10/],
      [{ recipients: ['pas-une-adresse'] }, /"pas-une-adresse" is not an e-mail address/],
      [{ recipients: ['a@b.example\r\nBcc: x@y.example'] }, /not an e-mail address/],
      [{ selection: 'NOT_YET_TRANSFERRED' }, /accounting entries/],
      [{ profileId: '00000000-0000-4000-8000-000000000000' }, /profileId/],
    ];
    for (const [change, message] of cases) {
      const res = await app.gql(CREATE, { input: { cadence: 'MONTHLY', day: 1, hour: 6, selection: 'PREVIOUS_PERIOD', ...base, ...change } }, admin);
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0].message).toMatch(message);
    }
    expect((await ds.query('SELECT count(*)::int AS n FROM export_schedules WHERE tenant_id = $1', [tenant]))[0].n).toBe(0);
    // A profile a schedule uses cannot be deleted.
    await createSchedule(admin, base);
    const del = await app.gql(`mutation($id: ID!) { deleteExportProfile(id: $id) }`, { id: profileId }, admin);
    expect(del.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('an empty period', () => {
  it('sends a notice with SEND_NOTICE, nothing with SKIP; no export either way', async () => {
    const { tenant, admin, profileId } = await setup('vide');
    const notice = await createSchedule(admin, { profileId, recipients: ['notice@compta.example'], emptyPeriod: 'SEND_NOTICE' });
    const skip = await createSchedule(admin, { profileId, recipients: ['skip@compta.example'], emptyPeriod: 'SKIP' });
    clock = new Date(Math.max(new Date(notice.nextRunAt).getTime(), new Date(skip.nextRunAt).getTime()) + 60_000);
    const [mail] = await mailsTo('notice@compta.example', 1);
    expect(mail.subject).toContain('aucune pièce');
    expect(mail.text).toContain("il n'y a pas de fichier");
    await runner.tick();
    expect(inbox.filter((m) => (m.to as { text: string }).text === 'skip@compta.example')).toHaveLength(0);
    const runs = await ds.query('SELECT status FROM export_schedule_runs WHERE schedule_id = ANY($1::uuid[])', [[notice.id, skip.id]]);
    expect(runs).toEqual([{ status: 'EMPTY' }, { status: 'EMPTY' }]);
    expect((await ds.query('SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1', [tenant]))[0].n).toBe(0);
  });
});

describe('a run due while Redis is down', () => {
  it('is recorded by PostgreSQL, and runs and is mailed once Redis is back', async () => {
    const { tenant, admin, profileId } = await setup('panne');
    const schedule = await createSchedule(admin, { profileId, recipients: ['panne@compta.example'] });
    clock = new Date(new Date(schedule.nextRunAt).getTime() + 60_000);
    const period = periodBefore('MONTHLY', clock, 'Europe/Paris');
    const payer = await createPayer(ds, tenant, {});
    await createInvoice(ds, tenant, { number: 'F000100', billingDate: period.end, payerId: payer, lines: [{ unitPrice: '42.00' }] });

    await redis.stop();
    await runner.tick();
    const [run] = await ds.query(
      `SELECT r.status, e.status AS "exportStatus" FROM export_schedule_runs r JOIN invoice_exports e ON e.id = r.export_id WHERE r.schedule_id = $1`,
      [schedule.id],
    );
    expect(run).toEqual({ status: 'REQUESTED', exportStatus: 'QUEUED' });
    expect(inbox.filter((m) => (m.to as { text: string }).text === 'panne@compta.example')).toHaveLength(0);

    redis = await startRedis(redis.port);
    const [mail] = await mailsTo('panne@compta.example', 1);
    expect(mail.text).toContain('Lignes : 1');
    // Once only, whatever the passes after.
    for (let i = 0; i < 3; i++) await runner.tick();
    expect(inbox.filter((m) => (m.to as { text: string }).text === 'panne@compta.example')).toHaveLength(1);
    expect((await ds.query('SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1', [tenant]))[0].n).toBe(1);
  }, 60_000);
});

describe('what the owner is told', () => {
  it('a run that cannot be made (a VAT rate without an account) mails the owner, not the recipients', async () => {
    const tenant = await createTenant(ds, uniqueName('tva'));
    const admin = app.token(tenant, [Role.ADMIN], 'owner-tva@ecole.example');
    const profile = await app.gql(PROFILE, { input: { name: 'Écritures', kind: 'ACCOUNTING_ENTRIES', format: 'FEC' } }, admin);
    expect(profile.errors).toBeUndefined();
    const schedule = await createSchedule(admin, { profileId: profile.data.createExportProfile.id, recipients: ['compta-tva@compta.example'], selection: 'NOT_YET_TRANSFERRED' });
    clock = new Date(new Date(schedule.nextRunAt).getTime() + 60_000);
    const payer = await createPayer(ds, tenant, {});
    await createInvoice(ds, tenant, { number: 'F000200', billingDate: periodBefore('MONTHLY', clock, 'Europe/Paris').end, payerId: payer, lines: [{ unitPrice: '100.00', vatRate: '8.50' }] });
    const [mail] = await mailsTo('owner-tva@ecole.example', 1);
    expect(mail.subject).toContain("Échec de l'envoi programmé");
    expect(mail.text).toContain('8.5');
    expect(mail.text).toContain('BAD_USER_INPUT');
    expect(inbox.filter((m) => (m.to as { text: string }).text === 'compta-tva@compta.example')).toHaveLength(0);
    const [run] = await ds.query('SELECT status FROM export_schedule_runs WHERE schedule_id = $1', [schedule.id]);
    expect(run.status).toBe('FAILED');
  }, 60_000);

  it('a mail the server refuses is retried with backoff, then given up and the owner told', async () => {
    const { tenant, admin, profileId } = await setup('rebond');
    const schedule = await createSchedule(admin, { profileId, recipients: ['bounce@compta.example', 'ok-rebond@compta.example'], ownerEmail: 'owner-rebond@ecole.example' });
    clock = new Date(new Date(schedule.nextRunAt).getTime() + 60_000);
    const payer = await createPayer(ds, tenant, {});
    await createInvoice(ds, tenant, { number: 'F000300', billingDate: periodBefore('MONTHLY', clock, 'Europe/Paris').end, payerId: payer, lines: [{ unitPrice: '10.00' }] });
    await mailsTo('ok-rebond@compta.example', 1);
    const attempts = async () => (await ds.query(`SELECT attempts, status, next_attempt_at AS "next" FROM export_deliveries WHERE schedule_id = $1 AND recipient = 'bounce@compta.example'`, [schedule.id]))[0];
    const first = await attempts();
    expect(first).toMatchObject({ attempts: 1, status: 'PENDING' });
    // Not tried again before its time.
    await runner.tick();
    expect((await attempts()).attempts).toBe(1);
    let waited = new Date(first.next).getTime() - clock.getTime();
    for (let i = 2; i <= 5; i++) {
      const before = await attempts();
      clock = new Date(new Date(before.next).getTime() + 1000);
      await runner.tick();
      const after = await attempts();
      expect(after.attempts).toBe(i);
      if (i < 5) {
        const gap = new Date(after.next).getTime() - clock.getTime();
        expect(gap).toBeGreaterThan(waited); // backoff grows
        waited = gap;
      }
    }
    expect((await attempts()).status).toBe('FAILED');
    const [owner] = await mailsTo('owner-rebond@ecole.example', 1);
    expect(owner.subject).toContain('Message non remis');
    expect(owner.text).toContain('bounce@compta.example');
    expect(owner.text).toContain('5 tentative(s)');
    expect(inbox.filter((m) => (m.to as { text: string }).text === 'ok-rebond@compta.example')).toHaveLength(1);
  }, 60_000);
});
