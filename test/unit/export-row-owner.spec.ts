import { execFileSync } from 'node:child_process';
import { ROOT } from '../helpers/processes';

/**
 * The export's row has one owner (docs/architecture.md): every write of
 * `invoice_exports` in src/ is a named transition of src/exports/lifecycle.ts.
 * Another module that writes it, by SQL or through the ORM, fails here. The
 * migrations are not writers of the running service (a backfill runs once).
 */
const OWNER = 'src/exports/lifecycle.ts';

/** Files of src/ (migrations aside, new files included) whose text matches the extended regular expression. */
function filesMatching(pattern: string): string[] {
  try {
    const args = ['grep', '--untracked', '-l', '-i', '-E', pattern, '--', 'src', ':!src/db/migrations'];
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch (err) {
    if ((err as { status?: number }).status === 1) return []; // no match
    throw err;
  }
}

describe('the owner of invoice_exports', () => {
  it('is the only file of src/ with an UPDATE, INSERT or DELETE of the table', () => {
    expect(filesMatching('UPDATE +invoice_exports')).toEqual([OWNER]);
    expect(filesMatching('INSERT +INTO +invoice_exports')).toEqual([OWNER]);
    expect(filesMatching('DELETE +FROM +invoice_exports')).toEqual([]);
  });

  it('is the only file that writes InvoiceExport through the ORM', () => {
    // A repository or query builder of the entity followed by a write method, or the entity passed to a manager's write.
    const orm =
      'getRepository\\(InvoiceExport\\)[^;]*\\.(save|insert|update|upsert|delete|remove|softDelete|increment|decrement)\\(' +
      '|\\.(save|insert|update|upsert|delete|remove|increment|decrement)\\(InvoiceExport\\b';
    expect(filesMatching(orm).filter((f) => f !== OWNER)).toEqual([]);
  });

  it('checks something: the owner itself matches the patterns', () => {
    // Guards the test against a pattern that can no longer match anything.
    expect(filesMatching('UPDATE +invoice_exports')).toContain(OWNER);
  });
});
