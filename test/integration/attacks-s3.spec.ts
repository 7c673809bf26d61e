/**
 * Attack suite, part 4: the embedded S3 server (issue 9, finding 4). It
 * served anonymous requests (list every tenant's keys, read, write, delete),
 * served tampered presigned URLs, and one 150-byte multipart/form-data POST
 * took the whole `npm start` process down (dicer). s3rver also shipped in
 * the production image.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { seedTenant } from '../../dev/seed/seed';
import { signToken } from '../../src/auth/jwt';
import { Role } from '../../src/entities/enums';
import { Child, ROOT, runTs } from '../helpers/processes';
import { TestS3, startTestS3 } from '../helpers/s3';
import { uniqueName } from '../helpers/app';

const ACCESS_KEY = 'local-export-key';
const SECRET_KEY = `local-secret-${randomUUID()}`;
const KEY = `exports/${randomUUID()}/${randomUUID()}/factures.csv`;

/** The 147-byte form upload that crashes s3rver through dicer (TypeError: this.header[h].push is not a function, uncaught). */
function crashingForm(bucket: string): { body: string; headers: Record<string, string> } {
  const body = `--x\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--x\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n__proto__: x\r\n\r\nAAAA\r\n--x--\r\n`;
  return { body, headers: { 'content-type': 'multipart/form-data; boundary=x', host: bucket } };
}

describe('the embedded S3 server refuses what is not signed with its key pair', () => {
  let s3: TestS3;
  let client: S3Client;
  beforeAll(async () => {
    s3 = await startTestS3({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
    client = s3.client();
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: KEY, Body: 'secret;data\r\n' }));
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });

  const objectUrl = () => `${s3.endpoint}/${s3.bucket}/${KEY}`;
  const stillThere = async () => {
    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: KEY }));
    return got.Body!.transformToString();
  };

  it.each([
    ['list the buckets', 'GET', () => `${s3.endpoint}/`],
    ['list every key of the bucket', 'GET', () => `${s3.endpoint}/${s3.bucket}?list-type=2`],
    ['read an object', 'GET', objectUrl],
    ['write an object', 'PUT', objectUrl],
    ['delete an object', 'DELETE', objectUrl],
    ['start a multipart upload', 'POST', () => `${objectUrl()}?uploads`],
  ])('anonymous: %s → 403, nothing changed', async (_name, method, url) => {
    const res = await fetch(url(), { method, ...(method === 'PUT' ? { body: 'overwritten' } : {}) });
    expect(res.status).toBe(403);
    const text = await res.text();
    expect(text).toContain('<Code>AccessDenied</Code>');
    expect(text).not.toContain(KEY);
    expect(await stillThere()).toBe('secret;data\r\n');
  });

  it("a request signed with s3rver's built-in S3RVER key, or with the right key and another secret, is refused", async () => {
    for (const credentials of [
      { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      { accessKeyId: ACCESS_KEY, secretAccessKey: 'a-guessed-secret' },
    ]) {
      const intruder = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
      const err = await intruder.send(new GetObjectCommand({ Bucket: s3.bucket, Key: KEY })).then(
        () => undefined,
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
      );
      intruder.destroy();
      expect(err?.$metadata?.httpStatusCode).toBe(403);
      expect(err?.name).toMatch(credentials.accessKeyId === 'S3RVER' ? /InvalidAccessKeyId/ : /SignatureDoesNotMatch/);
    }
  });

  it('a presigned URL downloads; tampered (another key, a longer expiry, another signature) it is refused', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: s3.bucket, Key: KEY }), { expiresIn: 60 });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('secret;data\r\n');

    const otherKey = `exports/${randomUUID()}/${randomUUID()}/other.csv`;
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: otherKey, Body: 'other tenant' }));
    const tampered = [
      url.replace(KEY, otherKey),
      url.replace(/X-Amz-Expires=60/, 'X-Amz-Expires=604800'),
      url.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000'),
      url.replace(/&X-Amz-Signature=[0-9a-f]+/, ''),
    ];
    for (const t of tampered) {
      expect(t).not.toBe(url);
      const res = await fetch(t);
      expect(`${res.status} ${t.slice(-40)}`).toBe(`403 ${t.slice(-40)}`);
      expect(await res.text()).not.toContain('other tenant');
    }
  });

  it('a multipart/form-data POST is refused before s3rver, signed or not, and the server keeps serving', async () => {
    const form = crashingForm(s3.bucket);
    for (const target of [`${s3.endpoint}/${s3.bucket}`, `${s3.endpoint}/${s3.bucket}/${KEY}?uploads`]) {
      const res = await fetch(target, { method: 'POST', headers: { 'content-type': form.headers['content-type'] }, body: form.body });
      expect(res.status).toBe(415);
    }
    expect(await stillThere()).toBe('secret;data\r\n');
  });
});

/** The 'Embedded S3 started' endpoint and the API port of an `npm start` child. */
async function started(child: Child): Promise<{ s3: string; api: string }> {
  await child.waitFor(/"msg":"Worker ready"/, 45_000);
  const lines = child.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const s3 = lines.find((l) => l.msg === 'Embedded S3 started').endpoint as string;
  const api = (lines.find((l) => l.msg === 'API ready').url as string).replace('localhost', '127.0.0.1');
  return { s3, api };
}

describe('npm start with its embedded S3', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'invoice-export-attacks-s3-'));
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('survives the crashing multipart POST, refuses anonymous listing, and still serves the presigned URL of an export', async () => {
    const { tenantId } = await seedTenant(process.env.DATABASE_URL!, { tenantName: uniqueName('s3-attack'), invoices: 20, ifExists: 'duplicate' });
    const child = runTs('src/main.ts', {
      NODE_ENV: 'test',
      PORT: '0',
      LOG_LEVEL: 'info',
      S3_ENDPOINT: '',
      S3_LOCAL_PORT: '0',
      S3_LOCAL_DIR: path.join(tmp, 's3'),
      S3_ACCESS_KEY_ID: ACCESS_KEY,
      S3_SECRET_ACCESS_KEY: SECRET_KEY,
    });
    try {
      const { s3, api } = await started(child);
      const form = crashingForm('invoice-exports');
      const crash = await fetch(`${s3}/invoice-exports`, { method: 'POST', headers: { 'content-type': form.headers['content-type'] }, body: form.body });
      expect(crash.status).toBe(415);
      expect((await fetch(`${s3}/invoice-exports?list-type=2`)).status).toBe(403);
      await new Promise((r) => setTimeout(r, 200));
      expect(child.proc.exitCode).toBeNull();
      expect((await fetch(api.replace('/graphql', '/healthz'))).status).toBe(200);

      const token = signToken(process.env.JWT_SECRET!, { tenantId, userId: 'u', roles: [Role.ACCOUNTANT] });
      const gql = async (query: string, variables: object) =>
        (await (await fetch(api, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) })).json()) as any;
      const req = await gql('mutation($i: RequestInvoiceExportInput!) { requestInvoiceExport(input: $i) { id } }', { i: { kind: 'INVOICES', format: 'CSV', selection: { filter: {} } } });
      const id = req.data.requestInvoiceExport.id;
      let url: string | null = null;
      for (let i = 0; i < 100 && !url; i++) {
        await new Promise((r) => setTimeout(r, 200));
        url = (await gql('query($id: ID!) { invoiceExport(id: $id) { downloadUrl } }', { id })).data.invoiceExport.downloadUrl;
      }
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1/);
      const file = await fetch(url!);
      expect(file.status).toBe(200);
      expect((await file.text()).split('\r\n').length).toBeGreaterThan(20);
      // The same URL, pointed at another object, is refused.
      expect((await fetch(url!.replace(/\/[^/?]+\?/, '/other.csv?'))).status).toBe(403);
    } finally {
      await child.kill('SIGKILL');
    }
  }, 90_000);
});

describe('s3rver is for local modes only, and the production install has none', () => {
  const NO_S3RVER = path.join(ROOT, 'test/helpers/no-s3rver.js');

  async function exitOf(child: Child, timeoutMs = 30_000): Promise<number | null> {
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
    try {
      return await child.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  it('npm start with NODE_ENV=production and no S3_ENDPOINT refuses to start, naming S3_ENDPOINT', async () => {
    const child = runTs('src/main.ts', { NODE_ENV: 'production', PORT: '0', S3_ENDPOINT: '', LOG_LEVEL: 'warn' });
    expect(await exitOf(child)).not.toBe(0);
    expect(child.output()).toMatch(/Cannot start: S3_ENDPOINT is not set: the embedded S3 server is for local runs only/);
  }, 40_000);

  it('without s3rver installed, the API starts on S3_ENDPOINT, and npm start without it says what to do', async () => {
    const s3 = await startTestS3();
    const env = { NODE_OPTIONS: `--require ${NO_S3RVER}`, PORT: '0', LOG_LEVEL: 'info' };
    const api = runTs('src/api/main.ts', { ...env, ...s3.env, NODE_ENV: 'production' });
    try {
      await api.waitFor(/"msg":"API ready"/, 30_000);
    } finally {
      await api.kill('SIGKILL');
      await s3.stop();
    }
    const local = runTs('src/main.ts', { ...env, S3_ENDPOINT: '', S3_LOCAL_PORT: '0', NODE_ENV: 'development' });
    expect(await exitOf(local)).not.toBe(0);
    expect(local.output()).toMatch(/Cannot start: S3_ENDPOINT is not set and the embedded S3 server \(s3rver, a devDependency for local runs\) is not installed here/);
  }, 60_000);
});
