/**
 * The tracing case of `npm run bench` (docs/operations.md: off, tracing costs
 * nothing; on, little): the same export on a fresh worker process without
 * OTEL_EXPORTER_OTLP_ENDPOINT and with it, exporting to an OTLP/HTTP sink
 * of the bench's own (default protocol, http/protobuf), interleaved over the
 * rounds (the order alternates) so that the machine's load weighs on both.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExportFormat, ExportKind } from '../src/entities/enums';
import type { Child } from '../tools/lib/children';
import type { ExportTiming } from './lib/client';
import { fmt, median } from '../tools/lib/util';

export interface TracingBenchDeps {
  startWorker(label: string, env: Record<string, string>): Promise<{ child: Child }>;
  stopWorker(w: { child: Child }): Promise<number>;
  exportOnce(role: string, kind: ExportKind, format: ExportFormat): Promise<ExportTiming>;
  log(msg: string): void;
}

export interface TracingResult {
  kind: ExportKind;
  format: ExportFormat;
  rows: number;
  off: { seconds: number[]; medianSeconds: number; peakRss: number[] };
  on: { seconds: number[]; medianSeconds: number; peakRss: number[] };
  /** on / off, medians. */
  ratio: number;
  /** What the sink received from the traced workers. */
  otlpRequests: number;
  otlpBytes: number;
}

/** An OTLP/HTTP endpoint that accepts every trace export and counts it. */
async function startSink(): Promise<{ endpoint: string; requests: number; bytes: number; close(): Promise<void> }> {
  const sink = { endpoint: '', requests: 0, bytes: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => (sink.bytes += c.length));
    req.on('end', () => {
      if (req.url === '/v1/traces') sink.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

export async function tracingPhase(deps: TracingBenchDeps, runs: number, kind = ExportKind.INVOICE_LINES, format = ExportFormat.CSV): Promise<TracingResult> {
  const sink = await startSink();
  const modes = {
    off: { env: { OTEL_EXPORTER_OTLP_ENDPOINT: '' }, seconds: [] as number[], peakRss: [] as number[] },
    on: { env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_SERVICE_NAME: 'invoice-export-bench-worker' }, seconds: [] as number[], peakRss: [] as number[] },
  };
  let rows = 0;
  try {
    for (let round = 0; round < runs; round++) {
      const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const mode of order) {
        const m = modes[mode];
        const worker = await deps.startWorker(`tracing-${mode}`, m.env);
        let t: ExportTiming;
        try {
          await deps.exportOnce('small', kind, format); // warm, as the main cases
          t = await deps.exportOnce('main', kind, format);
        } finally {
          // SIGTERM: a traced worker sends what it still holds before it exits.
          m.peakRss.push(await deps.stopWorker(worker));
        }
        rows = t.final.rowCount!;
        m.seconds.push((t.doneAt - t.requestedAt) / 1000);
        deps.log(`  tracing ${mode}: ${kind} ${format} ${fmt.secs(m.seconds[m.seconds.length - 1])} s`);
      }
    }
  } finally {
    await sink.close();
  }
  const off = { ...modes.off, medianSeconds: median(modes.off.seconds) };
  const on = { ...modes.on, medianSeconds: median(modes.on.seconds) };
  if (modes.on.seconds.length && sink.requests === 0) throw new Error('tracing on: the OTLP sink received nothing');
  return {
    kind,
    format,
    rows,
    off: { seconds: off.seconds, medianSeconds: off.medianSeconds, peakRss: off.peakRss },
    on: { seconds: on.seconds, medianSeconds: on.medianSeconds, peakRss: on.peakRss },
    ratio: on.medianSeconds / off.medianSeconds,
    otlpRequests: sink.requests,
    otlpBytes: sink.bytes,
  };
}

/** One line of the report. */
export function tracingReport(r: TracingResult): string {
  return (
    `Tracing (${r.kind} ${r.format}, ${fmt.int(r.rows)} rows, a fresh worker per run, interleaved): ` +
    `off (no OTEL_EXPORTER_OTLP_ENDPOINT) ${fmt.secs(r.off.medianSeconds)} s, on (OTLP http/protobuf to a local sink) ${fmt.secs(r.on.medianSeconds)} s ` +
    `→ ${fmt.ratio(r.ratio)} (medians of ${r.off.seconds.length}; worker peak ${fmt.mib(median(r.off.peakRss))} off, ${fmt.mib(median(r.on.peakRss))} on; ` +
    `${fmt.int(r.otlpRequests)} OTLP requests, ${fmt.size(r.otlpBytes)}).`
  );
}
