/**
 * The guard in front of the embedded s3rver (issue 9, finding 4). s3rver
 * 3.7.1 serves anonymous requests (list, read, write, delete any key), never
 * checks a SigV4 signature (a tampered presigned URL is served), and one
 * multipart/form-data POST crashes the whole process through its `dicer`
 * parser (GHSA-wm7h-9275-46v2, no fix upstream). So every request is checked
 * here first, in the same HTTP server, and only a request signed with the
 * configured key pair reaches s3rver:
 *
 * - AWS Signature Version 4, either in the Authorization header or in a
 *   presigned URL's query (X-Amz-Credential, X-Amz-Signature…): the access
 *   key must be the configured one and the signature must match, computed
 *   with the configured secret over the canonical request; a presigned URL
 *   must not have expired, a signed header request must be within 15 minutes
 *   of now. The declared payload hash (x-amz-content-sha256) is part of what
 *   is signed; the body itself is not re-hashed (nor aws-chunked chunk
 *   signatures checked): a loopback server for local runs, not an S3.
 * - No multipart/* body at all, and POST only for the operations the service
 *   uses (CreateMultipartUpload ?uploads, CompleteMultipartUpload ?uploadId,
 *   DeleteObjects ?delete): browser-form uploads (s3rver's POST object) never
 *   reach dicer.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface GuardCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface GuardRefusal {
  status: number;
  code: string;
  message: string;
}

const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const ALGORITHM = 'AWS4-HMAC-SHA256';

const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const encodeRfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    return undefined;
  }
}

/** The raw query as [key, value] pairs, decoded. */
function queryPairs(rawQuery: string): [string, string][] | undefined {
  if (!rawQuery) return [];
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const v = safeDecode(eq < 0 ? '' : part.slice(eq + 1));
    if (k === undefined || v === undefined) return undefined;
    pairs.push([k, v]);
  }
  return pairs;
}

function canonicalQuery(pairs: [string, string][]): string {
  return pairs
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** "20261202T041500Z" → epoch ms. */
function amzDate(s: string | undefined): number | undefined {
  const m = s ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
  if (!m) return undefined;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v.join(',') : v).trim().replace(/\s+/g, ' ');
}

const refuse = (status: number, code: string, message: string): GuardRefusal => ({ status, code, message });
const denied = (message: string) => refuse(403, 'AccessDenied', message);

interface Signed {
  accessKeyId: string;
  date: string; // yyyymmdd of the scope
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  payloadHash: string;
  /** Query pairs that take part in the canonical request. */
  pairs: [string, string][];
}

function parseCredential(credential: string): Pick<Signed, 'accessKeyId' | 'date' | 'region' | 'service'> | undefined {
  const parts = credential.split('/');
  if (parts.length < 5 || parts[parts.length - 1] !== 'aws4_request') return undefined;
  const [service, region, date] = [parts[parts.length - 2], parts[parts.length - 3], parts[parts.length - 4]];
  const accessKeyId = parts.slice(0, parts.length - 4).join('/');
  if (!/^\d{8}$/.test(date)) return undefined;
  return { accessKeyId, date, region, service };
}

function signedRequest(req: IncomingMessage, pairs: [string, string][]): Signed | GuardRefusal {
  const auth = headerValue(req, 'authorization');
  const q = new Map(pairs);
  if (auth) {
    if (!auth.startsWith(`${ALGORITHM} `)) return denied('Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is accepted');
    const fields = Object.fromEntries(
      auth
        .slice(ALGORITHM.length + 1)
        .split(',')
        .map((f) => f.trim().split('=', 2) as [string, string]),
    ) as Record<string, string | undefined>;
    const cred = fields.Credential ? parseCredential(fields.Credential) : undefined;
    if (!cred || !fields.SignedHeaders || !fields.Signature) return denied('Malformed Authorization header');
    const date = headerValue(req, 'x-amz-date');
    if (!date) return denied('x-amz-date is required');
    return {
      ...cred,
      signedHeaders: fields.SignedHeaders.split(';'),
      signature: fields.Signature,
      amzDate: date,
      payloadHash: headerValue(req, 'x-amz-content-sha256') ?? sha256Hex(''),
      pairs,
    };
  }
  if (q.has('X-Amz-Signature') || q.has('X-Amz-Credential')) {
    if (q.get('X-Amz-Algorithm') !== ALGORITHM) return denied('Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is accepted');
    const cred = parseCredential(q.get('X-Amz-Credential') ?? '');
    const signature = q.get('X-Amz-Signature');
    const signedHeaders = q.get('X-Amz-SignedHeaders');
    const date = q.get('X-Amz-Date');
    const expires = Number(q.get('X-Amz-Expires'));
    if (!cred || !signature || !signedHeaders || !date) return denied('Malformed presigned URL');
    const at = amzDate(date);
    if (at === undefined || !Number.isInteger(expires) || expires < 1 || expires > 604800) return denied('Malformed presigned URL');
    if (Date.now() > at + expires * 1000) return denied('Request has expired');
    return {
      ...cred,
      signedHeaders: signedHeaders.split(';'),
      signature,
      amzDate: date,
      payloadHash: q.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
      pairs: pairs.filter(([k]) => k !== 'X-Amz-Signature'),
    };
  }
  return denied('Anonymous requests are refused: sign the request (AWS Signature Version 4)');
}

/** Undefined when the request may reach s3rver; else what to answer. */
export function checkRequest(req: IncomingMessage, creds: GuardCredentials): GuardRefusal | undefined {
  const method = (req.method ?? 'GET').toUpperCase();
  const contentType = headerValue(req, 'content-type') ?? '';
  if (/^\s*multipart\//i.test(contentType)) return refuse(415, 'NotImplemented', 'multipart/* request bodies are not accepted here');
  const url = req.url ?? '/';
  const qIndex = url.indexOf('?');
  const rawPath = qIndex < 0 ? url : url.slice(0, qIndex);
  const pairs = queryPairs(qIndex < 0 ? '' : url.slice(qIndex + 1));
  if (!pairs || !rawPath.startsWith('/')) return refuse(400, 'InvalidRequest', 'Malformed request URL');
  if (method === 'POST' && !pairs.some(([k]) => k === 'uploads' || k === 'uploadId' || k === 'delete')) {
    return refuse(405, 'MethodNotAllowed', 'POST is accepted only for multipart uploads and batch deletes');
  }

  const signed = signedRequest(req, pairs);
  if ('status' in signed) return signed;
  if (signed.accessKeyId !== creds.accessKeyId) return refuse(403, 'InvalidAccessKeyId', 'The access key is not known here');
  if (signed.service !== 's3') return denied('The credential scope is not for s3');
  const at = amzDate(signed.amzDate);
  if (at === undefined || signed.amzDate.slice(0, 8) !== signed.date) return denied('x-amz-date does not match the credential scope');
  if (headerValue(req, 'authorization') && Math.abs(Date.now() - at) > MAX_CLOCK_SKEW_MS) {
    return refuse(403, 'RequestTimeTooSkewed', 'The difference between the request time and the server time is too large');
  }
  if (!signed.signedHeaders.includes('host')) return denied('The host header must be signed');

  const canonicalHeaders = signed.signedHeaders.map((h) => `${h}:${headerValue(req, h) ?? ''}\n`).join('');
  const canonicalRequest = [method, rawPath, canonicalQuery(signed.pairs), canonicalHeaders, signed.signedHeaders.join(';'), signed.payloadHash].join('\n');
  const scope = `${signed.date}/${signed.region}/${signed.service}/aws4_request`;
  const stringToSign = [ALGORITHM, signed.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, signed.date), signed.region), signed.service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest();
  const given = /^[0-9a-f]{64}$/.test(signed.signature) ? Buffer.from(signed.signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refuse(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided');
  }
  return undefined;
}

/** An S3-style XML error. */
export function errorXml(r: GuardRefusal): string {
  const esc = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${esc(r.code)}</Code><Message>${esc(r.message)}</Message></Error>`;
}
