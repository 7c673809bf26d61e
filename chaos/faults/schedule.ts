import { sleep } from '../../tools/lib/util';
import { log } from '../model';
import { apiKill } from './api-kill';
import { pgTerminate } from './pg-terminate';
import { redisRestart } from './redis-restart';
import type { ChaosRun } from './run';
import { s3Outage } from './s3-outage';
import { freezeDuringUpload } from './upload-freeze';
import { freezeWorker } from './worker-freeze';

/** When each fault strikes, as a fraction of the run's duration (worker kills run beside it: worker-kill.ts). */
type Step = [at: number, name: string, fault: (run: ChaosRun) => Promise<void>];

const SHORT: Step[] = [
  [0.05, 'freezeWorker', freezeWorker],
  [0.2, 'pgTerminate', pgTerminate],
  [0.25, 's3Outage', s3Outage],
  [0.45, 'redisRestart', (run) => redisRestart(run, false)],
  [0.55, 'freezeDuringUpload', freezeDuringUpload],
  [0.7, 'apiKill', apiKill],
  [0.8, 'redisRestart', (run) => redisRestart(run, true)],
];

const FULL: Step[] = [
  [0.06, 'freezeWorker', freezeWorker],
  [0.12, 'pgTerminate', pgTerminate],
  [0.16, 's3Outage', s3Outage],
  [0.34, 'redisRestart', (run) => redisRestart(run, false)],
  [0.42, 'freezeDuringUpload', freezeDuringUpload],
  [0.56, 'apiKill', apiKill],
  [0.62, 'redisRestart', (run) => redisRestart(run, true)],
  [0.7, 'pgTerminate', pgTerminate],
  [0.74, 'freezeWorker', freezeWorker],
  [0.82, 'redisRestart', (run) => redisRestart(run, false)],
  [0.88, 's3Outage', s3Outage],
];

export async function faultSchedule(run: ChaosRun): Promise<void> {
  const D = run.opts.duration * 1000;
  const start = Date.now();
  for (const [frac, name, fault] of run.opts.short ? SHORT : FULL) {
    const wait = start + frac * D - Date.now();
    if (wait > 0) await sleep(wait);
    log(`fault: ${name}`);
    try {
      await fault(run);
    } catch (err) {
      run.anomalies.push({ kind: 'fault-error', detail: `${(err as Error).message}` });
    }
    await sleep(2000);
  }
  log('faults done');
}
