import type { Config } from '../config';
import { ExportErrorCode, ExportRefusal, exportFailureMessage } from '../errors';
import { isTransientStorageError } from '../storage';

/**
 * What happens after an attempt fails: the one decision of the retry policy
 * (docs/architecture.md, "Retries"). Pure: the error, the attempt's number and
 * the settings in, the outcome out; the lifecycle then writes it.
 */

export interface ClassifiedError {
  code: ExportErrorCode;
  message: string;
  /** Worth another attempt (network, storage or database briefly away). */
  transient: boolean;
}

export type RetryPolicy = Pick<Config, 'exportMaxAttempts' | 'exportRetryDelayMs' | 'exportRetryMaxDelayMs'>;

export type RetryDecision =
  /** FAILED now: not transient, or the attempt was the last one (EXPORT_MAX_ATTEMPTS). */
  | { final: true; failure: ClassifiedError }
  /** QUEUED again, to run after `delayMs`. */
  | { final: false; failure: ClassifiedError; delayMs: number };

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Marks an error raised while talking to storage, so it is classified as such. */
export class StorageFailure extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
    this.name = 'StorageFailure';
  }
}

/** Transient or final, and what the user reads. */
export function classifyExportError(err: unknown): ClassifiedError {
  if (err instanceof ExportRefusal) {
    // The kind refused its data: another attempt would refuse it again.
    return { code: err.code, message: err.message, transient: false };
  }
  if (err instanceof StorageFailure) {
    return isTransientStorageError(err.original)
      ? { code: ExportErrorCode.STORAGE_UNAVAILABLE, message: exportFailureMessage(ExportErrorCode.STORAGE_UNAVAILABLE, err.message), transient: true }
      : { code: ExportErrorCode.STORAGE_REJECTED, message: exportFailureMessage(ExportErrorCode.STORAGE_REJECTED, err.message), transient: false };
  }
  const e = err as { code?: string; message?: string };
  const message = e?.message ?? String(err);
  const unavailable = { code: ExportErrorCode.DATABASE_UNAVAILABLE, message: exportFailureMessage(ExportErrorCode.DATABASE_UNAVAILABLE, message), transient: true };
  // 08xxx connection exceptions, 57Pxx shutdowns, 53xxx insufficient resources.
  if (e?.code && (NETWORK_CODES.has(e.code) || /^(08|57P|53)/.test(e.code))) return unavailable;
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)) return unavailable;
  if (e?.code && /^[0-9A-Z]{5}$/.test(e.code)) {
    // Any other SQLSTATE: the same query would fail again.
    return { code: ExportErrorCode.DATABASE_ERROR, message: exportFailureMessage(ExportErrorCode.DATABASE_ERROR, message), transient: false };
  }
  return { code: ExportErrorCode.INTERNAL_ERROR, message: exportFailureMessage(ExportErrorCode.INTERNAL_ERROR), transient: true };
}

/** The delay before retry number `attempt + 1`: exponential from `baseMs`, capped at `maxMs`, with ±20 % jitter. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

/**
 * After attempt number `attempt` (1, 2, 3… over the export's life) failed with
 * `err`: FAILED at once when the failure is not transient or the attempts are
 * spent, else another attempt after the backoff (EXPORT_RETRY_DELAY_MS
 * doubling up to EXPORT_RETRY_MAX_DELAY_MS, ±20 % jitter).
 */
export function decideRetry(err: unknown, attempt: number, policy: RetryPolicy, random: () => number = Math.random): RetryDecision {
  const failure = classifyExportError(err);
  if (!failure.transient || attempt >= policy.exportMaxAttempts) return { final: true, failure };
  return { final: false, failure, delayMs: retryDelayMs(attempt, policy.exportRetryDelayMs, policy.exportRetryMaxDelayMs, random) };
}
