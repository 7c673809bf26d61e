import { sleep } from '../../tools/lib/util';
import type { ChaosRun } from './run';
import { stillRunning } from './victims';

/** SIGKILL a worker (preferably one running exports); its exports must run again elsewhere. */
export async function killWorker(run: ChaosRun, tag = 'worker-sigkill', preferBusy = true): Promise<void> {
  const up = run.upWorkers();
  if (!up.length) return;
  const busy = up.filter((w) => run.runningOn(w).length);
  const pool = preferBusy && busy.length ? busy : up;
  const w = pool[Math.floor(run.random() * pool.length)];
  const candidates = run.runningOn(w).map((r) => r.id);
  const f = run.fault(tag, { worker: w.name, pid: w.pid });
  const since = Date.now();
  await w.kill();
  const victims = await stillRunning(run, candidates, w);
  f.details.exports = [...victims.keys()];
  run.end(f);
  f.details.watch = run.addWatch({ kind: tag, faultIndex: run.faults.length - 1, since, victims });
}

export async function killWorkersPeriodically(run: ChaosRun, until: () => boolean): Promise<void> {
  const every = run.opts.short ? 15_000 : 10_000;
  while (!until()) {
    await sleep(every * (0.7 + 0.6 * run.random()));
    if (until()) break;
    await killWorker(run);
  }
}
