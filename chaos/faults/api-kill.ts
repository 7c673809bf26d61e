import { gql } from '../../dev/client/export-client';
import { sleep } from '../../tools/lib/util';
import type { ChaosRun } from './run';

/** Fault: the API SIGKILLed (its supervisor restarts it); how long until it answers again. */

export async function apiKill(run: ChaosRun): Promise<void> {
  const f = run.fault('api-sigkill');
  run.outages.add('api');
  const killedAt = Date.now();
  await run.api.kill(); // the supervisor restarts it
  const t = run.tenants[0];
  for (;;) {
    try {
      await gql(run.apiUrl, t.token, '{ __typename }');
      break;
    } catch {
      await sleep(100);
    }
  }
  f.details.backMs = Date.now() - killedAt;
  run.outages.delete('api');
  run.end(f);
}
