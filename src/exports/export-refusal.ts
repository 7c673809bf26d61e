/**
 * A failure that another attempt cannot fix, with the code and message the
 * user reads in `error { code message }` (e.g. entries that do not balance).
 * The worker fails the export at once instead of retrying.
 */
export class ExportRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExportRefusal';
  }
}
