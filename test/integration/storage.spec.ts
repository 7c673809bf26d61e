/**
 * The storage module against a real s3rver (the embedded server of
 * dev/s3-local.ts), through the AWS SDK — no mocks.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  contentDisposition,
  exportPrefix,
  ExportStorage,
  isTransientStorageError,
  objectKey,
  storageOptionsFromConfig,
} from '../../src/storage';
import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { startEmbeddedS3 } from '../../dev/s3-local';
import { startTestS3, type TestS3 } from '../helpers/s3';

const MiB = 1024 * 1024;
const ROOT = path.resolve(__dirname, '../..');

interface Source {
  stream: Readable;
  /** sha256 of everything produced so far. */
  digest(): string;
  produced(): number;
}

/**
 * Pseudo-random bytes in 64 KiB chunks, produced on demand (read()), so the
 * consumer's backpressure applies. `failAfter`: destroy with an error once
 * that many bytes were produced. `delayAfter`: from then on, 5 ms per chunk.
 */
function randomSource(total: number, opts: { failAfter?: number; delayAfter?: number } = {}): Source {
  const hash = createHash('sha256');
  let produced = 0;
  const stream = new Readable({
    read() {
      if (opts.failAfter !== undefined && produced >= opts.failAfter) {
        this.destroy(new Error('boom: the producer failed'));
        return;
      }
      if (produced >= total) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(64 * 1024, total - produced));
      hash.update(chunk);
      produced += chunk.length;
      if (opts.delayAfter !== undefined && produced > opts.delayAfter) {
        setTimeout(() => this.push(chunk), 5); // ~12 MiB/s from here on
      } else {
        this.push(chunk);
      }
    },
  });
  return { stream, digest: () => hash.copy().digest('hex'), produced: () => produced };
}

function sha256(buf: Buffer | ArrayBuffer): string {
  return createHash('sha256')
    .update(Buffer.isBuffer(buf) ? buf : Buffer.from(buf))
    .digest('hex');
}

async function inProgressUploadDirs(s3: TestS3): Promise<string[]> {
  try {
    return await fs.readdir(path.join(s3.directory, s3.bucket, '._S3rver_uploads'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function rejectionOf(p: Promise<unknown>): Promise<Error & Record<string, any>> {
  try {
    await p;
  } catch (err) {
    return err as Error & Record<string, any>;
  }
  throw new Error('expected a rejection');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ExportStorage against s3rver', () => {
  let s3: TestS3;
  let storage: ExportStorage;
  const tenantId = randomUUID();

  beforeAll(async () => {
    s3 = await startTestS3();
    storage = new ExportStorage(storageOptionsFromConfig(s3.config));
    await storage.ensureBucket();
  });

  afterAll(async () => {
    storage?.destroy();
    await s3?.stop();
  });

  it('builds keys and Content-Disposition as docs/architecture.md says', () => {
    expect(objectKey('t1', 'e1', 'factures_20261127-1042.xlsx')).toBe('exports/t1/e1/factures_20261127-1042.xlsx');
    expect(storage.objectKey('t1', 'e1', 'a.csv')).toBe('exports/t1/e1/a.csv');
    expect(exportPrefix('t1', 'e1')).toBe('exports/t1/e1/');
    expect(() => objectKey('t1', 'e1', '..x.csv')).not.toThrow(); // one segment, no slash: fine
    expect(() => objectKey('t1', 'e/1', 'x.csv')).toThrow(/export id/);
    expect(() => objectKey('', 'e1', 'x.csv')).toThrow(/tenant id/);
    expect(() => objectKey('t1', 'e1', '..')).toThrow(/file name/);

    expect(contentDisposition('lignes-de-facturation_20261127-1042.csv')).toBe(
      `attachment; filename="lignes-de-facturation_20261127-1042.csv"; filename*=UTF-8''lignes-de-facturation_20261127-1042.csv`,
    );
    expect(contentDisposition(`Relevé d'été "2026" (ß).csv`)).toBe(
      `attachment; filename="Releve d'ete _2026_ (_).csv"; ` +
        `filename*=UTF-8''Relev%C3%A9%20d%27%C3%A9t%C3%A9%20%222026%22%20%28%C3%9F%29.csv`,
    );
  });

  it('streams a multi-part file (12 MiB) and serves it byte for byte through a presigned URL', async () => {
    const fileName = 'lignes-de-facturation_20261127-1042.csv';
    const exportId = randomUUID();
    const key = objectKey(tenantId, exportId, fileName);
    const size = 12 * MiB + 12345;
    const source = randomSource(size);

    const result = await storage.uploadStream(key, source.stream, { contentType: 'text/csv; charset=utf-8', fileName });
    expect(result.size).toBe(size);
    expect(source.produced()).toBe(size);

    const head = await storage.head(key);
    expect(head).toMatchObject({ size, contentType: 'text/csv; charset=utf-8', contentDisposition: contentDisposition(fileName) });

    const before = Date.now();
    const { url, expiresAt } = await storage.presign(key, 900);
    expect(expiresAt.getTime()).toBeGreaterThan(before + 898_000);
    expect(expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 900_000);

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe(contentDisposition(fileName));
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(size);
    expect(sha256(body)).toBe(source.digest());

    expect(await storage.listMultipartUploads(exportPrefix(tenantId, exportId))).toEqual([]);
    expect(await inProgressUploadDirs(s3)).toEqual([]);
  });

  it('stores a small file with a single PUT, accented name in Content-Disposition (and as a presign override)', async () => {
    const fileName = 'Relevé des factures – été.csv';
    const key = objectKey(tenantId, randomUUID(), 'releve.csv');
    const content = Buffer.from('\uFEFFType de pièce;N° de pièce\r\nfacture;F163881\r\n', 'utf8');

    const result = await storage.uploadStream(key, Readable.from([content]), { contentType: 'text/csv', fileName });
    expect(result.size).toBe(content.length);

    const plain = await fetch((await storage.presign(key, 60)).url);
    expect(plain.headers.get('content-disposition')).toBe(contentDisposition(fileName));
    expect(plain.headers.get('content-disposition')).toContain(`filename*=UTF-8''Relev%C3%A9%20des%20factures%20%E2%80%93%20%C3%A9t%C3%A9.csv`);
    expect(Buffer.from(await plain.arrayBuffer()).equals(content)).toBe(true);

    const other = 'factures_20261127-1042.csv';
    const overridden = await fetch((await storage.presign(key, 60, other)).url);
    expect(overridden.status).toBe(200);
    expect(overridden.headers.get('content-disposition')).toBe(contentDisposition(other));
    await overridden.arrayBuffer();
  });

  it('stores an empty file', async () => {
    const key = objectKey(tenantId, randomUUID(), 'vide.csv');
    expect(await storage.uploadStream(key, Readable.from([]), { contentType: 'text/csv', fileName: 'vide.csv' })).toEqual({ size: 0 });
    expect(await storage.head(key)).toMatchObject({ size: 0 });
    const res = await fetch((await storage.presign(key, 60)).url);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('an AbortSignal mid-upload rejects, leaves no object, no multipart upload and no part', async () => {
    const prefix = exportPrefix(tenantId, randomUUID());
    const key = `${prefix}factures.xlsx`;
    const controller = new AbortController();
    // 64 MiB, slowed down after 10 MiB so that the abort surely lands mid-upload.
    const source = randomSource(64 * MiB, { delayAfter: 10 * MiB });
    const upload = storage.uploadStream(key, source.stream, {
      contentType: 'application/octet-stream',
      fileName: 'factures.xlsx',
      signal: controller.signal,
    });
    upload.catch(() => undefined);

    // Wait until the multipart upload exists (part 1 under way), then cancel.
    const deadline = Date.now() + 10_000;
    let inProgress = await storage.listMultipartUploads(prefix);
    while (inProgress.length === 0 && Date.now() < deadline) {
      await sleep(20);
      inProgress = await storage.listMultipartUploads(prefix);
    }
    expect(inProgress).toHaveLength(1);
    expect(await inProgressUploadDirs(s3)).toHaveLength(1);
    controller.abort();

    const started = Date.now();
    const err = await rejectionOf(upload);
    expect(err.name).toBe('AbortError');
    expect(isTransientStorageError(err)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000); // "a RUNNING export stops within a second"
    expect(source.stream.destroyed).toBe(true); // the producer is told to stop
    // Backpressure: the producer never runs far ahead of the upload
    // (≈ (queueSize + 1) × partSize = 24 MiB with the defaults).
    expect(source.produced()).toBeLessThan(32 * MiB);

    expect(await storage.listKeys(prefix)).toEqual([]);
    expect(await storage.head(key)).toBeNull();
    expect(await storage.listMultipartUploads(prefix)).toEqual([]);
    expect(await inProgressUploadDirs(s3)).toEqual([]);
  });

  it('an already aborted signal rejects at once without touching storage', async () => {
    const controller = new AbortController();
    controller.abort();
    const source = randomSource(MiB);
    const key = objectKey(tenantId, randomUUID(), 'x.csv');
    const err = await rejectionOf(
      storage.uploadStream(key, source.stream, { contentType: 'text/csv', fileName: 'x.csv', signal: controller.signal }),
    );
    expect(err.name).toBe('AbortError');
    expect(source.stream.destroyed).toBe(true);
    expect(await storage.head(key)).toBeNull();
  });

  it.each([
    ['after a part was uploaded (multipart)', 11 * MiB],
    ['before the first part was complete (single PUT path)', 1 * MiB],
  ])('a body stream that errors %s rejects with its error and leaves nothing', async (_label, failAfter) => {
    const prefix = exportPrefix(tenantId, randomUUID());
    const key = `${prefix}lignes.csv`;
    const source = randomSource(64 * MiB, { failAfter });
    const err = await rejectionOf(storage.uploadStream(key, source.stream, { contentType: 'text/csv', fileName: 'lignes.csv' }));
    expect(err.message).toBe('boom: the producer failed');
    expect(isTransientStorageError(err)).toBe(false);
    expect(await storage.listKeys(prefix)).toEqual([]);
    expect(await storage.listMultipartUploads(prefix)).toEqual([]);
    expect(await inProgressUploadDirs(s3)).toEqual([]);
  });

  it('abortMultipartUploads cleans up an upload left behind (e.g. by a killed worker)', async () => {
    const prefix = exportPrefix(tenantId, randomUUID());
    const key = `${prefix}factures.xlsx`;
    // Start a multipart upload and "die": the process never aborts it.
    const client = s3.client();
    const { UploadId: uploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }));

    expect(await storage.listMultipartUploads(prefix)).toEqual([
      { key, uploadId, initiated: expect.any(Date) },
    ]);
    expect(await storage.abortMultipartUploads(prefix)).toBe(1);
    expect(await storage.listMultipartUploads(prefix)).toEqual([]);
    expect(await inProgressUploadDirs(s3)).toEqual([]);
    // A part sent to the aborted upload is refused (S3: NoSuchUpload), not stored.
    const part = await client.send(new UploadPartCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: 'x' })).then(
      () => 'stored',
      (err: Error) => err.name,
    );
    expect(part).toBe('NoSuchUpload');
    client.destroy();
    expect(await inProgressUploadDirs(s3)).toEqual([]);
  });

  it('an expired URL is refused (403); a fresh one works', async () => {
    const key = objectKey(tenantId, randomUUID(), 'factures.csv');
    await storage.uploadStream(key, Readable.from([Buffer.from('a;b\r\n')]), { contentType: 'text/csv', fileName: 'factures.csv' });

    const before = Date.now();
    const { url, expiresAt } = await storage.presign(key, 1);
    expect(expiresAt.getTime()).toBeGreaterThan(before - 1000);
    expect(expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 1100);

    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('expired');

    const fresh = await fetch((await storage.presign(key, 60)).url);
    expect(fresh.status).toBe(200);
    expect(await fresh.text()).toBe('a;b\r\n');
  });

  it('a second embedded server on a port in use rejects (EADDRINUSE) instead of crashing the process', async () => {
    await expect(startEmbeddedS3({ directory: s3.directory, port: s3.port, bucket: s3.bucket })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    await storage.ping(); // the first one is unaffected
  });

  it('refuses a presign lifetime out of range', async () => {
    await expect(storage.presign('k', 0)).rejects.toThrow(RangeError);
    await expect(storage.presign('k', 604801)).rejects.toThrow(RangeError);
  });

  it('ensureBucket creates a missing bucket, is idempotent and safe when raced', async () => {
    const fresh = new ExportStorage(storageOptionsFromConfig({ ...s3.config, s3Bucket: `fresh-${randomUUID().slice(0, 8)}` }));
    try {
      const missing = await rejectionOf(fresh.ping());
      expect(missing.$metadata?.httpStatusCode).toBe(404);
      expect(isTransientStorageError(missing)).toBe(false);

      expect(await fresh.ensureBucket()).toBe(true);
      await fresh.ping();
      expect(await fresh.ensureBucket()).toBe(false);
    } finally {
      fresh.destroy();
    }

    const raced = Array.from({ length: 4 }, () => new ExportStorage(storageOptionsFromConfig({ ...s3.config, s3Bucket: `race-${randomUUID().slice(0, 8)}` })));
    const bucket = raced[0].bucket;
    const racers = Array.from({ length: 4 }, () => new ExportStorage(storageOptionsFromConfig({ ...s3.config, s3Bucket: bucket })));
    try {
      const created = await Promise.all(racers.map((r) => r.ensureBucket()));
      expect(created.filter(Boolean).length).toBeGreaterThanOrEqual(1);
      await racers[0].ping();
    } finally {
      [...raced, ...racers].forEach((r) => r.destroy());
    }
  });

  it('deleteObject and deletePrefix remove objects (and only those)', async () => {
    const e1 = randomUUID();
    const e2 = randomUUID();
    const put = (key: string) =>
      storage.uploadStream(key, Readable.from([Buffer.from(key)]), { contentType: 'text/plain', fileName: 'x.txt' });
    const k1a = objectKey(tenantId, e1, 'a.csv');
    const k1b = objectKey(tenantId, e1, 'b.xlsx');
    const k2 = objectKey(tenantId, e2, 'a.csv');
    await Promise.all([put(k1a), put(k1b), put(k2)]);
    expect(await storage.listKeys(exportPrefix(tenantId, e1))).toEqual([k1a, k1b]);

    await storage.deleteObject(k1a);
    expect(await storage.listKeys(exportPrefix(tenantId, e1))).toEqual([k1b]);
    await storage.deleteObject(k1a); // already gone: fine

    expect(await storage.deletePrefix(exportPrefix(tenantId, e1))).toBe(1);
    expect(await storage.listKeys(exportPrefix(tenantId, e1))).toEqual([]);
    expect(await storage.listKeys(exportPrefix(tenantId, e2))).toEqual([k2]);
    await expect(storage.deletePrefix('')).rejects.toThrow(/non-empty/);
  });

  it('wrong credentials: a permanent (non-transient) failure', async () => {
    const wrong = new ExportStorage(storageOptionsFromConfig({ ...s3.config, s3AccessKeyId: 'NOT-A-KEY', s3SecretAccessKey: 'nope' }));
    try {
      const pingErr = await rejectionOf(wrong.ping());
      expect(pingErr.$metadata?.httpStatusCode).toBe(403);
      expect(isTransientStorageError(pingErr)).toBe(false);

      const prefix = exportPrefix(tenantId, randomUUID());
      const uploadErr = await rejectionOf(
        wrong.uploadStream(`${prefix}x.csv`, randomSource(MiB).stream, { contentType: 'text/csv', fileName: 'x.csv' }),
      );
      expect(uploadErr.name).toBe('InvalidAccessKeyId');
      expect(isTransientStorageError(uploadErr)).toBe(false);
      expect(await storage.listKeys(prefix)).toEqual([]);
    } finally {
      wrong.destroy();
    }
  });
});

describe('ExportStorage when storage is down', () => {
  it('a stopped server: ping and uploads fail within seconds, as transient errors', async () => {
    const s3 = await startTestS3();
    const storage = new ExportStorage(storageOptionsFromConfig(s3.config));
    try {
      const key = objectKey('t', randomUUID(), 'x.csv');
      await storage.uploadStream(key, Readable.from([Buffer.from('ok')]), { contentType: 'text/csv', fileName: 'x.csv' });
      await storage.ping();
      await s3.stop({ keepFiles: true });

      let started = Date.now();
      const pingErr = await rejectionOf(storage.ping());
      expect(Date.now() - started).toBeLessThan(5000);
      expect(isTransientStorageError(pingErr)).toBe(true);

      started = Date.now();
      const source = randomSource(20 * MiB);
      const uploadErr = await rejectionOf(
        storage.uploadStream(objectKey('t', randomUUID(), 'y.csv'), source.stream, { contentType: 'text/csv', fileName: 'y.csv' }),
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(isTransientStorageError(uploadErr)).toBe(true);
      expect(source.stream.destroyed).toBe(true);
    } finally {
      storage.destroy();
      await s3.stop();
    }
  });

  it('a hung server (accepts, never answers): ping and uploads time out as transient errors', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const storage = new ExportStorage({
      endpoint: `http://127.0.0.1:${port}`,
      bucket: 'hung',
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      maxAttempts: 1,
      socketTimeoutMs: 700,
      pingTimeoutMs: 1000,
      cleanupTimeoutMs: 1000,
    });
    try {
      let started = Date.now();
      const pingErr = await rejectionOf(storage.ping());
      expect(Date.now() - started).toBeLessThan(3000);
      expect(isTransientStorageError(pingErr)).toBe(true);

      started = Date.now();
      const uploadErr = await rejectionOf(
        storage.uploadStream('exports/t/e/x.csv', randomSource(MiB).stream, { contentType: 'text/csv', fileName: 'x.csv' }),
      );
      expect(Date.now() - started).toBeLessThan(5000);
      expect(isTransientStorageError(uploadErr)).toBe(true);
    } finally {
      storage.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('isTransientStorageError', () => {
  const s3Error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  const sysError = (code: string) => Object.assign(new Error(code), { code });

  it.each([
    ['ECONNREFUSED', sysError('ECONNREFUSED')],
    ['ECONNRESET', sysError('ECONNRESET')],
    ['ETIMEDOUT', sysError('ETIMEDOUT')],
    ['EAI_AGAIN', sysError('EAI_AGAIN')],
    ['TimeoutError', Object.assign(new Error('t'), { name: 'TimeoutError' })],
    ['500 InternalError', s3Error('InternalError', 500)],
    ['503 SlowDown', s3Error('SlowDown', 503)],
    ['503 ServiceUnavailable', s3Error('ServiceUnavailable', 503)],
    ['502 from a proxy', s3Error('Unknown', 502)],
    ['429', s3Error('TooManyRequests', 429)],
    ['400 RequestTimeout', s3Error('RequestTimeout', 400)],
    ['$retryable', Object.assign(new Error('x'), { $retryable: {} })],
    ['wrapped network error', new Error('outer', { cause: sysError('ECONNRESET') })],
    ['abort caused by a timeout', Object.assign(new Error('a'), { name: 'AbortError', cause: Object.assign(new Error('t'), { name: 'TimeoutError' }) })],
  ])('%s → transient', (_label, err) => {
    expect(isTransientStorageError(err)).toBe(true);
  });

  it.each([
    ['403 AccessDenied', s3Error('AccessDenied', 403)],
    ['403 InvalidAccessKeyId', s3Error('InvalidAccessKeyId', 403)],
    ['403 SignatureDoesNotMatch', s3Error('SignatureDoesNotMatch', 403)],
    ['404 NoSuchBucket', s3Error('NoSuchBucket', 404)],
    ['400 InvalidBucketName', s3Error('InvalidBucketName', 400)],
    ['501 NotImplemented', s3Error('NotImplemented', 501)],
    ['AbortError (cancelled)', Object.assign(new Error('a'), { name: 'AbortError' })],
    ['a plain bug', new TypeError('x is not a function')],
    ['not an error', 'oops'],
    ['null', null],
  ])('%s → permanent', (_label, err) => {
    expect(isTransientStorageError(err)).toBe(false);
  });
});

describe('npm run s3:local', () => {
  it('runs the embedded server alone, prints S3_ENDPOINT, serves, and exits 0 on SIGTERM', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'invoice-export-s3-cli-'));
    const script: string = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts['s3:local'];
    const [cmd, ...args] = script.split(/\s+/);
    expect(cmd).toBe('node');
    const bucket = `cli-${randomUUID().slice(0, 8)}`;
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, S3_LOCAL_PORT: '0', S3_LOCAL_DIR: dir, S3_BUCKET: bucket, S3_ENDPOINT: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    let storage: ExportStorage | undefined;
    try {
      const endpoint = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no S3_ENDPOINT line within 20 s; stdout: ${stdout}; stderr: ${stderr}`)), 20_000);
        const check = () => {
          const m = /^S3_ENDPOINT=(http:\/\/127\.0\.0\.1:\d+)$/m.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child.stdout.on('data', check);
        void exited.then(() => reject(new Error(`exited early; stdout: ${stdout}; stderr: ${stderr}`)));
        check();
      });
      expect(stdout).toMatch(/^S3_ACCESS_KEY_ID=S3RVER$/m);
      expect(stdout).toMatch(/^S3_SECRET_ACCESS_KEY=S3RVER$/m);
      expect(stdout).toMatch(new RegExp(`^S3_BUCKET=${bucket}$`, 'm'));

      storage = new ExportStorage({
        endpoint,
        bucket,
        region: 'us-east-1',
        accessKeyId: 'S3RVER',
        secretAccessKey: 'S3RVER',
        forcePathStyle: true,
      });
      await storage.ping(); // the bucket exists
      const key = objectKey('t', 'e', 'hello.csv');
      await storage.uploadStream(key, Readable.from([Buffer.from('bonjour')]), { contentType: 'text/csv', fileName: 'hello.csv' });
      storage.destroy();
      storage = undefined;

      child.kill('SIGTERM');
      const { code, signal } = await exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      // The data stays on disk (resetOnClose: false).
      const stored = await fs.readdir(path.join(dir, bucket, 'exports', 't', 'e'));
      expect(stored).toContain('hello.csv._S3rver_object');
    } finally {
      storage?.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
