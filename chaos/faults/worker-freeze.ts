import { sleep } from '../../tools/lib/util';
import { LEASE_MS } from '../model';
import type { ChaosRun } from './run';
import { stillRunning } from './victims';

/** SIGSTOP a worker past its lease (2× + 2 s), then SIGCONT. */
export async function freezeWorker(run: ChaosRun): Promise<void> {
  const up = run.upWorkers();
  if (!up.length) return;
  const busy = up.filter((w) => run.runningOn(w).length);
  const w = (busy.length ? busy : up)[0];
  const candidates = run.runningOn(w).map((r) => r.id);
  const f = run.fault('worker-sigstop', { worker: w.name, frozenMs: 2 * LEASE_MS + 2000 });
  const since = Date.now();
  w.freeze();
  const victims = await stillRunning(run, candidates, w);
  f.details.exports = [...victims.keys()];
  const watch = run.addWatch({ kind: 'worker-sigstop', faultIndex: run.faults.length - 1, since, victims });
  await sleep(2 * LEASE_MS + 2000);
  w.thaw();
  run.end(f);
  f.details.watch = watch;
}
