/**
 * V8 flags of the service's processes (API, worker, all-in-one), given on
 * the command line wherever one is started: the npm scripts `start`,
 * `start:api`, `start:worker`, the Dockerfile's and docker-compose.yml's
 * commands, and the children the tests, the bench and the chaos run start
 * (tools/lib/children.ts). test/unit/runtime.spec.ts checks that every one of
 * them says exactly this.
 *
 * `--max-semi-space-size=16` (MiB): Node 24's V8 sizes the young generation
 * up to 32 MiB per semi-space by default. An export makes short-lived
 * garbage at a steady rate (rows from node-postgres, cells, chunks); with the
 * default the worker's peak RSS for an accounting export of 100,000 invoices
 * was 288–312 MB, with 16 MiB 217–233 MB and no slower (docs/performance.md,
 * "Worker RSS"); an XLSX export 194 → 170 MB.
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=16'] as const;
