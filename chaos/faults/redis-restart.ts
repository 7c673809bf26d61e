import { sleep } from '../../tools/lib/util';
import type { ChaosRun } from './run';
import { killWorker } from './worker-kill';

/** Fault: Redis killed and restarted from its AOF, or restarted empty. */

export async function redisRestart(run: ChaosRun, empty: boolean): Promise<void> {
  const type = empty ? 'redis-restart-empty' : 'redis-kill-aof';
  const downMs = 3000 + Math.floor(run.random() * 2000);
  const pendingRows = [...run.rows.values()].filter((r) => r.status === 'QUEUED' || r.status === 'RUNNING');
  const f = run.fault(type, { downMs, pending: pendingRows.length });
  run.outages.add('redis');
  await run.redis.kill();
  if (empty) await run.redis.wipe();
  await sleep(downMs);
  await run.redis.start();
  run.outages.delete('redis');
  run.end(f);
  const watch = run.addWatch({
    kind: type,
    faultIndex: run.faults.length - 1,
    since: Date.now(),
    pending: new Map(
      [...run.rows.values()].filter((r) => r.status === 'QUEUED' || r.status === 'RUNNING').map((r) => [r.id, { token: r.lease_token, status: r.status }]),
    ),
  });
  f.details.watch = watch;
  if (!empty) {
    // Issue 8, finding 6: a worker SIGKILLed 0.8 s after Redis came back from its AOF.
    await sleep(800);
    await killWorker(run, 'worker-sigkill-after-redis', true);
  }
}
