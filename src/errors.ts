/**
 * Domain errors carry a code; the API maps them to `extensions.code` in one
 * place (api/format-error.ts). No GraphQL import here: the worker uses them too.
 * The codes of a failed export (`InvoiceExport.error.code`) are below.
 */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  /** Too many active exports, or too many requests (docs/fairness.md); `extensions.retryAfterSeconds` says when to try again. */
  RATE_LIMITED = 'RATE_LIMITED',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, details);
export const notFound = (message: string) => new AppError(ErrorCode.NOT_FOUND, message);
export const forbidden = (message: string) => new AppError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (message: string) => new AppError(ErrorCode.UNAUTHENTICATED, message);
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new AppError(ErrorCode.RATE_LIMITED, message, { retryAfterSeconds });

/** What the user reads in `error { code message }` once an export has failed (docs/api.md lists them). */
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
  /** Importer layouts (docs/accounting.md): an identifier that does not fit its field, found while writing (the data changed after the request). */
  ACCOUNT_TOO_LONG = 'ACCOUNT_TOO_LONG',
  AUXILIARY_TOO_LONG = 'AUXILIARY_TOO_LONG',
  PIECE_REF_TOO_LONG = 'PIECE_REF_TOO_LONG',
  JOURNAL_CODE_TOO_LONG = 'JOURNAL_CODE_TOO_LONG',
  ENTRY_NUMBER_TOO_LONG = 'ENTRY_NUMBER_TOO_LONG',
  IDENTIFIER_NOT_ENCODABLE = 'IDENTIFIER_NOT_ENCODABLE',
  /** Importer layouts with a bounded amount field (QUADRA, XIMPORT): an entry line's amount does not fit it. */
  AMOUNT_TOO_LARGE = 'AMOUNT_TOO_LARGE',
}

/** The codes of a kind refusing its own data: another attempt would refuse it again. */
export type ExportRefusalCode =
  | ExportErrorCode.UNBALANCED_ENTRIES | ExportErrorCode.VAT_ACCOUNT_MISSING | ExportErrorCode.INVALID_ACCOUNT
  | ExportErrorCode.ACCOUNT_TOO_LONG | ExportErrorCode.AUXILIARY_TOO_LONG | ExportErrorCode.PIECE_REF_TOO_LONG
  | ExportErrorCode.JOURNAL_CODE_TOO_LONG | ExportErrorCode.ENTRY_NUMBER_TOO_LONG | ExportErrorCode.IDENTIFIER_NOT_ENCODABLE
  | ExportErrorCode.AMOUNT_TOO_LARGE;

/** The one text of each failure code: a message starts with it, and its cause (if any) follows. */
const EXPORT_FAILURE_TEXT: Record<ExportErrorCode, string> = {
  [ExportErrorCode.STORAGE_UNAVAILABLE]: 'The file storage could not be reached',
  [ExportErrorCode.STORAGE_REJECTED]: 'The file storage refused the file',
  [ExportErrorCode.DATABASE_UNAVAILABLE]: 'The database could not be reached',
  [ExportErrorCode.DATABASE_ERROR]: 'The database refused the export query',
  [ExportErrorCode.WORKER_LOST]: 'The worker running this export stopped on every attempt',
  [ExportErrorCode.INTERNAL_ERROR]: 'The export failed unexpectedly',
  [ExportErrorCode.UNBALANCED_ENTRIES]: 'The accounting entries do not balance',
  [ExportErrorCode.VAT_ACCOUNT_MISSING]: 'A VAT rate of the selection has no account in the accounting settings',
  [ExportErrorCode.INVALID_ACCOUNT]: 'A billing line has an accounting account that is not a valid account number',
  [ExportErrorCode.ACCOUNT_TOO_LONG]: 'An account does not fit the importer layout',
  [ExportErrorCode.AUXILIARY_TOO_LONG]: 'An auxiliary account does not fit the importer layout',
  [ExportErrorCode.PIECE_REF_TOO_LONG]: 'A piece reference does not fit the importer layout',
  [ExportErrorCode.JOURNAL_CODE_TOO_LONG]: 'The journal code does not fit the importer layout',
  [ExportErrorCode.ENTRY_NUMBER_TOO_LONG]: 'The entry numbers do not fit the importer layout',
  [ExportErrorCode.IDENTIFIER_NOT_ENCODABLE]: 'An identifier holds a character the importer layout cannot write as is',
  [ExportErrorCode.AMOUNT_TOO_LARGE]: "An amount does not fit the importer layout's amount field",
};

/** The message of a failure: the code's text, then its cause. */
export function exportFailureMessage(code: ExportErrorCode, cause?: string): string {
  const text = EXPORT_FAILURE_TEXT[code] ?? EXPORT_FAILURE_TEXT[ExportErrorCode.INTERNAL_ERROR];
  return cause ? `${text}: ${cause}` : text;
}

/** What `InvoiceExport.error` shows for a stored code and message (a row written without a message gets the code's text). */
export function exportError(code: string | null, message: string | null): { code: string; message: string } | null {
  if (!code) return null;
  return { code, message: message ?? (code in EXPORT_FAILURE_TEXT ? exportFailureMessage(code as ExportErrorCode) : code) };
}

/**
 * A failure that another attempt cannot fix, with the code and message the
 * user reads in `error { code message }` (e.g. entries that do not balance).
 * The worker fails the export at once instead of retrying.
 */
export class ExportRefusal extends Error {
  constructor(
    readonly code: ExportRefusalCode,
    message: string,
    /** The field at fault, when there is one (`CompteNum`, `vatAccounts["20.00"]`): the pre-flight check groups by it. */
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'ExportRefusal';
  }
}
