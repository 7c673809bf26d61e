import { ExportRefusal } from '../errors';
import { isTransientStorageError } from '../storage';

/** What the user reads in `error { code message }` once an export has failed. */
export enum ExportErrorCode {
  STORAGE_UNAVAILABLE = 'STORAGE_UNAVAILABLE',
  STORAGE_REJECTED = 'STORAGE_REJECTED',
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
  DATABASE_ERROR = 'DATABASE_ERROR',
  WORKER_LOST = 'WORKER_LOST',
  INTERNAL_ERROR = 'INTERNAL_ERROR',
  /** ACCOUNTING_ENTRIES: an entry or the file does not balance (data whose lines do not add up to amount_due). */
  UNBALANCED_ENTRIES = 'UNBALANCED_ENTRIES',
  /** ACCOUNTING_ENTRIES: a VAT rate without an account (the settings changed after the request). */
  VAT_ACCOUNT_MISSING = 'VAT_ACCOUNT_MISSING',
  /** ACCOUNTING_ENTRIES: a billing line's accounting account is not a valid account number. */
  INVALID_ACCOUNT = 'INVALID_ACCOUNT',
}

export interface ClassifiedError {
  code: ExportErrorCode;
  message: string;
  /** Worth another attempt (network, storage or database briefly away). */
  transient: boolean;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Marks an error raised while talking to storage, so it is classified as such. */
export class StorageFailure extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
    this.name = 'StorageFailure';
  }
}

export function classifyExportError(err: unknown): ClassifiedError {
  if (err instanceof ExportRefusal) {
    // The kind refused its data: another attempt would refuse it again.
    return { code: err.code as ExportErrorCode, message: err.message, transient: false };
  }
  if (err instanceof StorageFailure) {
    const transient = isTransientStorageError(err.original);
    return transient
      ? { code: ExportErrorCode.STORAGE_UNAVAILABLE, message: `The file storage could not be reached: ${err.message}`, transient }
      : { code: ExportErrorCode.STORAGE_REJECTED, message: `The file storage refused the file: ${err.message}`, transient };
  }
  const e = err as { code?: string; message?: string };
  const message = e?.message ?? String(err);
  if (e?.code && (NETWORK_CODES.has(e.code) || /^(08|57P|53)/.test(e.code))) {
    // 08xxx connection exceptions, 57Pxx shutdowns, 53xxx insufficient resources.
    return { code: ExportErrorCode.DATABASE_UNAVAILABLE, message: `The database could not be reached: ${message}`, transient: true };
  }
  if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)) {
    return { code: ExportErrorCode.DATABASE_UNAVAILABLE, message: `The database could not be reached: ${message}`, transient: true };
  }
  if (e?.code && /^[0-9A-Z]{5}$/.test(e.code)) {
    // Any other SQLSTATE: the same query would fail again.
    return { code: ExportErrorCode.DATABASE_ERROR, message: `The database refused the export query: ${message}`, transient: false };
  }
  return { code: ExportErrorCode.INTERNAL_ERROR, message: 'The export failed unexpectedly', transient: true };
}
