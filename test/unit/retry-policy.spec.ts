import { ExportErrorCode, ExportRefusal } from '../../src/errors';
import { StorageFailure, decideRetry, retryDelayMs } from '../../src/worker/retry-policy';

const DEFAULTS = { exportMaxAttempts: 10, exportRetryDelayMs: 1000, exportRetryMaxDelayMs: 30_000 };
const mid = () => 0.5;

describe('retry delays', () => {
  it('double from the first delay up to the cap (no jitter at the midpoint)', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((a) => retryDelayMs(a, 1000, 30_000, mid))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('stay within ±20 % (jitter), so that exports failed together do not retry together', () => {
    expect(retryDelayMs(3, 1000, 30_000, () => 0)).toBe(3200);
    expect(retryDelayMs(3, 1000, 30_000, () => 0.999999)).toBe(4800);
  });

  it('with the defaults, ten attempts ride out at least two minutes of outage', () => {
    const lowest = Array.from({ length: 9 }, (_, i) => retryDelayMs(i + 1, 1000, 30_000, () => 0)).reduce((a, b) => a + b, 0);
    expect(lowest).toBeGreaterThanOrEqual(120_000);
  });
});

describe('the retry decision after a failed attempt', () => {
  const refused = new ExportRefusal(ExportErrorCode.UNBALANCED_ENTRIES, 'The entry of invoice F1 does not balance');
  const storageDown = new StorageFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4569'), { code: 'ECONNREFUSED' }));
  const storageRefused = new StorageFailure(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
  const dbDown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
  const dbCut = new Error('Connection terminated unexpectedly');
  const badQuery = Object.assign(new Error('column "x" does not exist'), { code: '42703' });
  const bug = new TypeError("Cannot read properties of undefined (reading 'id')");

  it.each([
    // error, attempt, final, code, delay at the jitter's midpoint
    ['a refusal of the kind', refused, 1, true, ExportErrorCode.UNBALANCED_ENTRIES, undefined],
    ['storage unreachable, first attempt', storageDown, 1, false, ExportErrorCode.STORAGE_UNAVAILABLE, 1000],
    ['storage unreachable, fourth attempt', storageDown, 4, false, ExportErrorCode.STORAGE_UNAVAILABLE, 8000],
    ['storage unreachable, last attempt', storageDown, 10, true, ExportErrorCode.STORAGE_UNAVAILABLE, undefined],
    ['storage refusing the file', storageRefused, 1, true, ExportErrorCode.STORAGE_REJECTED, undefined],
    ['PostgreSQL shutting the session', dbDown, 2, false, ExportErrorCode.DATABASE_UNAVAILABLE, 2000],
    ['PostgreSQL connection cut', dbCut, 9, false, ExportErrorCode.DATABASE_UNAVAILABLE, 30_000],
    ['a query PostgreSQL refuses', badQuery, 1, true, ExportErrorCode.DATABASE_ERROR, undefined],
    ['anything else', bug, 1, false, ExportErrorCode.INTERNAL_ERROR, 1000],
  ] as const)('%s', (_what, err, attempt, final, code, delayMs) => {
    const decision = decideRetry(err, attempt, DEFAULTS, mid);
    expect(decision.final).toBe(final);
    expect(decision.failure.code).toBe(code);
    expect(decision.final ? undefined : decision.delayMs).toBe(delayMs);
  });

  it('says what the user reads: the code’s text, then the cause (a refusal keeps its own words)', () => {
    expect(decideRetry(storageDown, 1, DEFAULTS, mid).failure.message).toBe('The file storage could not be reached: connect ECONNREFUSED 127.0.0.1:4569');
    expect(decideRetry(badQuery, 1, DEFAULTS, mid).failure.message).toBe('The database refused the export query: column "x" does not exist');
    expect(decideRetry(refused, 1, DEFAULTS, mid).failure.message).toBe('The entry of invoice F1 does not balance');
    // An unexpected error's text stays in the logs: it may hold internals.
    expect(decideRetry(bug, 1, DEFAULTS, mid).failure.message).toBe('The export failed unexpectedly');
  });

  it('a single allowed attempt makes every failure final', () => {
    expect(decideRetry(storageDown, 1, { ...DEFAULTS, exportMaxAttempts: 1 }, mid).final).toBe(true);
  });
});
