/**
 * Which storage failures are worth a retry, read from what the AWS SDK
 * throws: its `name`, `code`, `$retryable` and `$metadata.httpStatusCode`
 * (its public error shape), and, for the one case the SDK reports only in
 * words, its wrapper message (see below). The client-s3 version is pinned
 * exactly in package.json for that reason; test/integration/storage.spec.ts
 * ("when storage is down") is the contract: a stopped and a hung server must
 * still classify as transient after an SDK upgrade.
 */

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'PriorRequestNotComplete',
  'TransactionInProgressException',
  'OperationAborted', // S3 409: a conflicting operation is in progress, try again
  'RequestTimeTooSkewed', // the SDK corrects its clock offset on the next attempt
  'XMinioServerNotInitialized',
]);

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND', // DNS not (yet) resolvable, e.g. a service that is starting
  'EAI_AGAIN',
  'ERR_HTTP2_STREAM_ERROR',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Whether retrying later may succeed: network failures, timeouts, throttling,
 * 5xx → true. Refusals that a retry cannot change (AccessDenied,
 * InvalidAccessKeyId, SignatureDoesNotMatch, NoSuchBucket, other 4xx, 501),
 * programming errors, and aborts (AbortError: the caller cancelled) → false.
 */
export function isTransientStorageError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'AbortError') {
    // An abort that wraps a timeout (AbortSignal.timeout) is a timeout.
    return e.cause !== undefined && isTransientStorageError(e.cause, depth + 1);
  }
  if (TRANSIENT_NAMES.has(name)) return true;
  if (typeof e.code === 'string' && (TRANSIENT_CODES.has(e.code) || e.code.startsWith('UND_ERR_'))) return true;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    if (status === 408 || status === 429) return true;
    if (status >= 500 && status !== 501 && status !== 505) return true;
    return false;
  }
  // The SDK wraps what is not an `instanceof Error` of its own realm (e.g.
  // under Jest's VM sandbox) as "AWS SDK error wrapper for Error: connect
  // ECONNREFUSED …", dropping `code`: read the code from the message then.
  const message = typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : '';
  if (message.startsWith('AWS SDK error wrapper for ')) {
    const codes = message.match(/\b(?:E[A-Z_]{3,}|UND_ERR_[A-Z_]+)\b/g) ?? [];
    if (codes.some((c) => TRANSIENT_CODES.has(c) || c.startsWith('UND_ERR_'))) return true;
    if (/\b(?:TimeoutError|socket hang up)\b/.test(message)) return true;
  }
  return e.cause !== undefined && isTransientStorageError(e.cause, depth + 1);
}

export function errorName(err: unknown): string | undefined {
  return err && typeof err === 'object' && typeof (err as ErrorLike).name === 'string'
    ? ((err as ErrorLike).name as string)
    : undefined;
}

export function httpStatus(err: unknown): number | undefined {
  return (err as ErrorLike | undefined)?.$metadata?.httpStatusCode;
}

function isErrorLike(value: unknown): value is Error {
  // Not `instanceof Error`: DOMException / errors of another realm (Jest's VM) fail it.
  return (
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as Error).name === 'string' &&
      typeof (value as Error).message === 'string')
  );
}

export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (isErrorLike(reason)) return reason;
  const err = new Error(reason === undefined ? 'Upload aborted' : String(reason));
  err.name = 'AbortError';
  return err;
}
