/**
 * A failure that another attempt cannot fix, with the code and message the
 * user reads in `error { code message }` (e.g. entries that do not balance).
 * The worker fails the export at once instead of retrying.
 */
export class ExportRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The field at fault, when there is one (`CompteNum`, `vatAccounts["20.00"]`): the pre-flight check groups by it. */
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'ExportRefusal';
  }
}
