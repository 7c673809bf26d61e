import { promises as fs } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { Running } from '../src/boot';

/**
 * The demo's scheduled send (docs/profiles.md): a profile as the accountant's
 * "import paramétrable" wants it (CSV, Windows-1252, a few columns, dates
 * ddmmyyyy), a monthly schedule of the entries not yet transferred, its run
 * triggered now, the mail found in the embedded sink (.eml under
 * MAIL_LOCAL_DIR) and the file downloaded through the link it carries.
 * A second demo run finds the same period already sent: it shows that mail
 * again and sends nothing.
 */

const PROFILE_NAME = 'Cabinet comptable (import paramétrable)';
const RECIPIENT = 'comptable@cabinet-demo.example';
/** The accountant's columns, by their header (the FEC names). */
const WANTED = ['EcritureDate', 'JournalCode', 'CompteNum', 'CompAuxNum', 'PieceRef', 'EcritureLib', 'Debit', 'Credit'];

export interface ScheduledSendReport {
  ok: boolean;
  lines: [label: string, value: string, note?: string][];
}

async function gql<T = any>(apiUrl: string, token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch(apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new Error(`${body.errors[0].message} (${body.errors[0].extensions?.code ?? 'ERROR'})`);
  return body.data as T;
}

/** The .eml the sink wrote for a message id, with the link it carries. */
async function findMail(directory: string, messageId: string): Promise<{ file: string; link: string | null; subject: string } | null> {
  const names = (await fs.readdir(directory).catch(() => [] as string[])).filter((n) => n.endsWith('.eml')).sort().reverse();
  for (const name of names) {
    const raw = await fs.readFile(path.join(directory, name));
    if (!raw.includes(messageId.replace(/^<|>$/g, ''))) continue;
    const mail = await simpleParser(raw);
    return { file: path.join(directory, name), link: /Télécharger le fichier : (\S+)/.exec(mail.text ?? '')?.[1] ?? null, subject: mail.subject ?? '' };
  }
  return null;
}

export async function demoScheduledSend(running: Running, apiUrl: string, adminToken: string): Promise<ScheduledSendReport> {
  const { services, sending } = running;
  const lines: ScheduledSendReport['lines'] = [];
  if (!sending?.runner) return { ok: false, lines: [['✗', 'scheduled sends are off in this process (no SMTP_URL and no embedded sink)']] };

  // The profile (reused on a second run).
  const { exportProfiles } = await gql(apiUrl, adminToken, `{ exportProfiles { id name } }`);
  let profileId: string | undefined = exportProfiles.find((p: { name: string }) => p.name === PROFILE_NAME)?.id;
  if (!profileId) {
    const { exportColumns } = await gql(apiUrl, adminToken, `{ exportColumns(kind: ACCOUNTING_ENTRIES) { key header } }`);
    const columns = WANTED.map((h) => ({ key: exportColumns.find((c: { header: string }) => c.header === h).key }));
    const created = await gql(apiUrl, adminToken, `mutation($input: ExportProfileInput!) { createExportProfile(input: $input) { id } }`, {
      input: {
        name: PROFILE_NAME,
        kind: 'ACCOUNTING_ENTRIES',
        format: 'CSV',
        columns,
        csv: { encoding: 'WINDOWS_1252', separator: ';', decimalSeparator: ',', dateFormat: 'ddmmyyyy', header: true },
        fileNamePattern: 'ecritures-{tenant}-{date}',
      },
    });
    profileId = created.createExportProfile.id;
  }
  lines.push(['profile', `"${PROFILE_NAME}"`, `${WANTED.length} columns, Windows-1252, ";", dates ddmmyyyy`]);

  // The schedule (reused on a second run).
  const { exportSchedules } = await gql(apiUrl, adminToken, `{ exportSchedules { id profile { id } } }`);
  let scheduleId: string | undefined = exportSchedules.find((s: { profile: { id: string } }) => s.profile.id === profileId)?.id;
  if (!scheduleId) {
    const created = await gql(apiUrl, adminToken, `mutation($input: ExportScheduleInput!) { createExportSchedule(input: $input) { id } }`, {
      input: { profileId, cadence: 'MONTHLY', day: 1, hour: 7, recipients: [RECIPIENT], selection: 'NOT_YET_TRANSFERRED', emptyPeriod: 'SEND_NOTICE', ownerEmail: 'tresorier@ecole-demo.example' },
    });
    scheduleId = created.createExportSchedule.id;
  }
  lines.push(['schedule', `monthly, the 1st at 07:00, to ${RECIPIENT}`, 'entries not yet transferred']);

  // "Run now": the period that ended last; a second demo run gets the same export back.
  const { runExportScheduleNow: exp } = await gql(apiUrl, adminToken, `mutation($id: ID!) { runExportScheduleNow(id: $id) { id } }`, { id: scheduleId });
  const until = Date.now() + 90_000;
  let delivery: { status: string; messageId: string | null; periodStart: string; lastError: string | null } | undefined;
  for (;;) {
    await sending.runner.tick();
    [delivery] = await services.dataSource.query(
      `SELECT status, message_id AS "messageId", period_start::text AS "periodStart", last_error AS "lastError" FROM export_deliveries
       WHERE schedule_id = $1 AND recipient = $2 ORDER BY period_start DESC LIMIT 1`,
      [scheduleId, RECIPIENT],
    );
    if (delivery && delivery.status !== 'PENDING') break;
    if (Date.now() > until) return { ok: false, lines: [...lines, ['✗', 'no mail within 90 s', delivery?.lastError ?? '']] };
    await new Promise((r) => setTimeout(r, 200));
  }
  if (delivery.status !== 'SENT' || !delivery.messageId) return { ok: false, lines: [...lines, ['✗', `mail ${delivery.status}`, delivery.lastError ?? '']] };

  if (!running.sending?.sink) {
    lines.push(['mail', `sent through SMTP_URL to ${RECIPIENT}`]);
    return { ok: true, lines };
  }
  const mail = await findMail(running.sending.sink.directory, delivery.messageId);
  if (!mail) return { ok: false, lines: [...lines, ['✗', `no .eml for ${delivery.messageId} in ${running.sending.sink.directory}`]] };
  const rel = path.relative(process.cwd(), mail.file);
  lines.push(['mail', rel && !rel.startsWith('..') ? rel : mail.file, mail.subject]);
  if (!mail.link) {
    lines.push(['link', 'none: the period was empty (a notice was sent)']);
    return { ok: true, lines };
  }
  lines.push(['link', mail.link, `valid ${services.config.exportLinkDays} days; each click gets a fresh presigned URL`]);
  // A mail of an earlier demo run links to that run's port: the same token, asked of this run's API.
  const here = new URL(apiUrl).origin;
  const url = services.config.publicUrl ? mail.link : mail.link.replace(/^https?:\/\/[^/]+/, here);
  const res = await fetch(url);
  const bytes = Buffer.from(await res.arrayBuffer());
  const [row] = exp
    ? await services.dataSource.query(`SELECT file_size AS "fileSize", file_name AS "fileName" FROM invoice_exports WHERE id = $1`, [exp.id])
    : [undefined];
  const same = res.status === 200 && row && bytes.length === Number(row.fileSize);
  const firstLine = bytes.subarray(0, bytes.indexOf(0x0d) > 0 ? bytes.indexOf(0x0d) : 80).toString('latin1');
  lines.push([same ? '✓' : '✗', `downloaded ${row?.fileName ?? '?'} through the link: ${bytes.length} bytes`, `first line: ${firstLine}`]);
  return { ok: Boolean(same), lines };
}
