import type { Pool } from 'pg';
import type { RedisServer, Slot } from '../../tools/lib/stack';
import type { ChaosOptions } from '../lib/options';
import type { Anomaly, Fault, Row, Spec, TenantInfo, Watch } from '../model';

/**
 * What a fault sees of the chaos run (chaos.ts): the stack it strikes, what
 * the run knows of every export, and where it records the fault, the
 * exports to watch afterwards and any anomaly. Each fault is one module of
 * this folder, a function of this.
 */
export interface ChaosRun {
  readonly opts: ChaosOptions;
  readonly random: () => number;
  readonly tmp: string;
  readonly logDir: string;
  readonly redis: RedisServer;
  s3: Slot;
  readonly s3Port: number;
  readonly api: Slot;
  readonly apiUrl: string;
  readonly pool: Pool;
  readonly tenants: TenantInfo[];
  readonly rows: Map<string, Row>;
  /** export id → worker slot + incarnation + attempt, from the workers' "Export started" log lines. */
  readonly holders: Map<string, { slot: Slot; incarnation: number; attempt: number }>;
  readonly faults: Fault[];
  readonly anomalies: Anomaly[];
  /** What is down right now (a refusal seen meanwhile is expected). */
  readonly outages: Set<string>;
  upWorkers(): Slot[];
  runningOn(slot: Slot): Row[];
  runRequest(spec: Spec): Promise<void>;
  download(id: string): Promise<{ sha: string; bytes: Buffer }>;
  /** Records a fault starting now; `end` stamps its end. */
  fault(type: string, details?: Record<string, unknown>): Fault;
  end(f: Fault): void;
  /** Follows the exports a fault hit until they ran again or ended. */
  addWatch(w: Omit<Watch, 'done'>): Watch;
}
