import path from 'node:path';
import { EMBEDDED_S3_ENTRY, Slot } from '../../tools/lib/stack';
import { sleep } from '../../tools/lib/util';
import { BUCKET } from '../model';
import type { ChaosRun } from './run';

/** Fault: the S3 server stopped for 10–30 s, then restarted in place. */

export async function s3Outage(run: ChaosRun): Promise<void> {
  const downMs = (run.opts.short ? 10 : 10 + Math.floor(run.random() * 20)) * 1000;
  const f = run.fault('s3-outage', { downMs });
  run.s3.hold = true;
  run.outages.add('s3');
  await run.s3.stop(3000).catch(() => undefined);
  run.s3.stopping = false;
  await sleep(downMs);
  run.s3 = s3Slot(run);
  await run.s3.start();
  run.outages.delete('s3');
  run.end(f);
  f.details.watch = run.addWatch({ kind: 's3-outage', faultIndex: run.faults.length - 1, since: Date.now() });
}

/** The S3 server's slot, on the run's fixed port (so that a restart serves the same address and files). */
export function s3Slot(run: ChaosRun): Slot {
  return new Slot(
    's3rver',
    EMBEDDED_S3_ENTRY,
    () => ({ S3_LOCAL_PORT: String(run.s3Port), S3_LOCAL_DIR: path.join(run.tmp, 's3'), S3_BUCKET: BUCKET, LOG_LEVEL: 'warn' }),
    /^S3_ENDPOINT=/m,
    run.logDir,
    { echo: run.opts.verbose },
  );
}
