import type { Slot } from '../../tools/lib/stack';
import { sleep } from '../../tools/lib/util';
import type { Row } from '../model';
import type { ChaosRun } from './run';

/**
 * A worker frozen while its upload is in flight, until another attempt has
 * COMPLETED the export; then SIGCONT: the stale attempt must stop and must
 * not touch the winner's file.
 */
export async function freezeDuringUpload(run: ChaosRun): Promise<void> {
  const f = run.fault('worker-sigstop-upload');
  const big = run.tenants.reduce((a, b) => (b.lines > a.lines ? b : a));
  // On a quiet machine the workload's exports may all be done or too quick to catch mid-upload:
  // then it asks for a large one of its own, again every few seconds until one is caught.
  let requestedOwnAt = 0;
  let deadline = Date.now() + 60_000;
  const raced = new Set<string>();
  let caught: { slot: Slot; row: Row; frozenAt: number; completed: Row | undefined } | undefined;
  while (!caught && Date.now() < deadline) {
    let target: { slot: Slot; row: Row } | undefined;
    for (const w of run.upWorkers()) {
      for (const r of run.runningOn(w)) {
        if (raced.has(r.id)) continue;
        if (r.processed_rows > 0 && r.total_rows && r.processed_rows < 0.6 * r.total_rows && r.total_rows >= 5000) target = { slot: w, row: r };
      }
    }
    if (!target && Date.now() - requestedOwnAt > 6_000 && (requestedOwnAt > 0 || Date.now() > deadline - 55_000)) {
      // No large export in flight: ask for one.
      requestedOwnAt = Date.now();
      void run.runRequest({ at: 0, tenant: run.tenants.indexOf(big), kind: 'INVOICE_LINES', format: 'XLSX', selection: { filter: {} } });
    }
    if (!target) {
      await sleep(100);
      continue;
    }
    const frozenAt = Date.now();
    target.slot.freeze();
    const outcome = await whileFrozen(run, target.row);
    if (outcome.raced) {
      // The fault did not happen to this export: thaw, pick another.
      target.slot.thaw();
      raced.add(target.row.id);
      f.details.raced = [...((f.details.raced as string[] | undefined) ?? []), `${target.row.id}: ${outcome.raced}`];
      deadline = Math.max(deadline, Date.now() + 30_000); // time to catch another
      continue;
    }
    caught = { ...target, frozenAt, completed: outcome.completed };
  }
  if (!caught) {
    f.details.skipped = 'no export with its upload in flight within 60 s';
    run.anomalies.push({ kind: 'fault-not-run', detail: 'worker-sigstop-upload: no export with its upload in flight within 60 s' });
    run.end(f);
    return;
  }
  const { slot, row, frozenAt, completed } = caught;
  Object.assign(f.details, { worker: slot.name, exportId: row.id, attempt: row.attempts, processedRows: row.processed_rows, totalRows: row.total_rows });
  f.details.takeoverCompletedMs = completed ? Date.now() - frozenAt : null;
  if (!completed || completed.status !== 'COMPLETED' || completed.attempts <= row.attempts) {
    slot.thaw();
    run.anomalies.push({ kind: 'takeover', exportId: row.id, detail: `frozen worker's export ended ${completed?.status ?? 'not at all within 120 s'} (attempt ${completed?.attempts})` });
    run.end(f);
    return;
  }
  // Another attempt won; its file, before and after the stale attempt resumes.
  const before = await run.download(row.id).catch((err: Error) => ({ error: err.message }));
  slot.thaw();
  f.details.frozenMs = Date.now() - frozenAt;
  await sleep(4000);
  const after = await run.download(row.id).catch((err: Error) => ({ error: err.message }));
  const [now] = (await run.pool.query(`SELECT status, file_key FROM invoice_exports WHERE id = $1`, [row.id])).rows;
  const ok = 'sha' in before && 'sha' in after && before.sha === after.sha && now.status === 'COMPLETED' && now.file_key === completed.file_key;
  f.details.fileIntactAfterResume = ok;
  if (!ok) {
    run.anomalies.push({
      kind: 'file-lost',
      exportId: row.id,
      detail: `after the frozen attempt resumed: before ${JSON.stringify(before).slice(0, 200)}, after ${JSON.stringify(after).slice(0, 200)}, row ${JSON.stringify(now)}`,
    });
  }
  run.end(f);
}

/**
 * Waits, the victim's worker stopped, until its export ends (up to 120 s).
 * `raced` when the freeze did not catch the attempt it meant to: the poll's
 * row can be a heartbeat old, so the attempt may have finished, or sent its
 * COMPLETED, just before the SIGSTOP (a stopped process writes nothing: what
 * ends the export in its name while it is stopped was sent before); or the
 * workload cancelled that export meanwhile. Otherwise, how it ended.
 */
async function whileFrozen(run: ChaosRun, row: Row): Promise<{ raced?: string; completed?: Row }> {
  await sleep(500); // the statements already on the wire land
  const [fresh] = (await run.pool.query(`SELECT status, attempts, lease_token FROM invoice_exports WHERE id = $1`, [row.id])).rows;
  if (!fresh || fresh.status !== 'RUNNING' || fresh.attempts !== row.attempts || fresh.lease_token !== row.lease_token) {
    return { raced: `${fresh?.status ?? 'gone'} (attempt ${fresh?.attempts}) before the freeze took hold` };
  }
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    const r = run.rows.get(row.id)!;
    if (r.status === 'COMPLETED' && r.attempts === row.attempts) return { raced: `its COMPLETED was on the wire (attempt ${r.attempts})` };
    if (r.status === 'CANCELLED') return { raced: 'cancelled by the workload meanwhile' };
    if (['COMPLETED', 'FAILED'].includes(r.status)) return { completed: r };
    await sleep(200);
  }
  return {};
}
