import type { Pool, PoolClient } from 'pg';
import type { Queryable } from './sql';

/**
 * A transaction begun early on a connection of its own, written to while
 * an export streams, and finished by whoever completes the export
 * (`ExportLifecycle.complete`): the accounting kind's transfer marks go in
 * as the documents are written, so that completing the export commits them
 * instead of inserting 100,000 rows at the end (docs/accounting.md).
 *
 * Its locks must not outlive a process that stopped: the session ends
 * itself (`idle_in_transaction_session_timeout`) once idle for `idleTimeoutMs`,
 * and a timer keeps it busy meanwhile (`SELECT 1`) so that only a frozen or
 * dead process lets it go idle that long. A statement that fails (or a
 * connection that drops) makes every later call reject; `rollback` is
 * always safe to call.
 */
export class OpenTransaction implements Queryable {
  private finished = false;
  private broken: Error | null = null;
  private inFlight = 0;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly onError = (err: Error) => {
    this.broken ??= err;
  };

  private constructor(private readonly client: PoolClient, idleTimeoutMs: number) {
    client.on('error', this.onError);
    this.keepAlive = setInterval(() => {
      if (this.inFlight || this.finished || this.broken) return;
      this.query('SELECT 1').catch(() => undefined);
    }, Math.max(250, Math.floor(idleTimeoutMs / 3)));
    this.keepAlive.unref();
  }

  static async begin(pool: Pool, idleTimeoutMs: number): Promise<OpenTransaction> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('idle_in_transaction_session_timeout', $1, true)`, [`${Math.round(idleTimeoutMs)}ms`]);
    } catch (err) {
      client.release(true);
      throw err;
    }
    return new OpenTransaction(client, idleTimeoutMs);
  }

  /** The statement's rows (as TypeORM's `query` gives them for a SELECT or a RETURNING). */
  async query(text: string, values?: unknown[]): Promise<any[]> {
    if (this.finished) throw new Error('The transaction is already finished');
    if (this.broken) throw this.broken;
    this.inFlight++;
    try {
      return (await this.client.query(text, values)).rows;
    } catch (err) {
      this.broken ??= err as Error;
      throw err;
    } finally {
      this.inFlight--;
    }
  }

  async commit(): Promise<void> {
    if (this.broken) throw this.broken;
    await this.query('COMMIT');
    this.end();
  }

  /** Undoes everything (nothing committed yet); never throws. */
  async rollback(): Promise<void> {
    if (this.finished) return;
    if (!this.broken) await this.client.query('ROLLBACK').catch((err: Error) => (this.broken ??= err));
    this.end();
  }

  private end(): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.keepAlive);
    this.client.off('error', this.onError);
    // A connection that failed is not given back to the pool.
    this.client.release(this.broken ? true : undefined);
  }
}
