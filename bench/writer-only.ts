/**
 * Baseline "writer only" (run by bench.ts in a child process of its own, so
 * that the rows held in memory never weigh on the API or the workers):
 * loads the export's rows once with the export's own SELECT, then writes them
 * with the kind's own file writer (openExportFile, as an attempt opens it) into a null sink, `--runs`
 * times per format. Only the writing is timed: the floor for formatting.
 * `XLSX_EXCELJS` is the XLSX writer as it was before it wrote its own package
 * (bench/baseline/xlsx-exceljs.ts), measured on the same rows as a baseline.
 *
 * Prints one line `RESULT <json>` and exits.
 */
import '../src/db/data-source'; // the same pg type parsers as the worker (dates stay yyyy-mm-dd)
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { ExportFormat, ExportKind } from '../src/entities/enums';
import { DEFAULT_TIME_ZONE, EXCEL_MAX_DATA_ROWS } from '../src/exports/formats';
import { exportKind, openExportFile } from '../src/exports/kinds';
import type { ExportSummary, ExportWriter } from '../src/exports/writers/writer';
import { EXCELJS_BASELINE, ExceljsXlsxWriter } from './baseline/xlsx-exceljs';
import { allInvoices } from './lib/sql';
import { nullSink, procMemory } from '../tools/lib/util';

export interface WriterOnlyResult {
  kind: ExportKind;
  rows: number;
  loadSeconds: number;
  formats: Partial<Record<ExportFormat | typeof EXCELJS_BASELINE, { seconds: number[]; cpuSeconds: number[]; bytes: number }>>;
}

function writerFor(kind: ExportKind, format: ExportFormat | typeof EXCELJS_BASELINE, output: NodeJS.WritableStream): ExportWriter<unknown> {
  // The kind's own file writer, as an attempt opens it.
  if (format !== EXCELJS_BASELINE) return openExportFile(kind, { format, locale: 'fr-FR', output: output as never, at: new Date(), timeZone: DEFAULT_TIME_ZONE }).writer;
  const def = exportKind(kind);
  return new ExceljsXlsxWriter<unknown>({
    columns: def.columns as never,
    sheetName: def.sheetName['fr-FR'],
    locale: 'fr-FR',
    output: output as never,
    maxRowsPerSheet: EXCEL_MAX_DATA_ROWS,
    timeZone: DEFAULT_TIME_ZONE,
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'database-url': { type: 'string' },
      'tenant-id': { type: 'string' },
      kind: { type: 'string' },
      formats: { type: 'string', default: 'XLSX,CSV' },
      runs: { type: 'string', default: '3' },
      'created-before': { type: 'string' },
    },
  });
  const kind = values.kind as ExportKind;
  if (!Object.values(ExportKind).includes(kind)) throw new Error(`--kind must be one of ${Object.values(ExportKind).join(', ')}`);
  const formats = values.formats!.split(',') as (ExportFormat | typeof EXCELJS_BASELINE)[];
  const runs = Number(values.runs);

  const client = new Client({ connectionString: values['database-url'], application_name: 'invoice-export-bench-writer' });
  await client.connect();
  const q = exportKind(kind).rowsQuery(values['tenant-id']!, allInvoices(values['created-before']));
  const t0 = performance.now();
  const { rows } = await client.query(q.text, q.values);
  const loadSeconds = (performance.now() - t0) / 1000;
  await client.end();

  const summary: ExportSummary = {
    tenantName: 'bench',
    requestedBy: 'bench',
    requestedAt: new Date(),
    generatedAt: new Date(),
    selection: 'Tous les résultats',
    invoiceCount: 0,
    creditNoteCount: 0,
    rowCount: rows.length,
    totalDue: '0.00',
    totalPaid: '0.00',
    totalRemaining: '0.00',
  };
  const result: WriterOnlyResult = { kind, rows: rows.length, loadSeconds, formats: {} };
  for (const format of formats) {
    const seconds: number[] = [];
    const cpuSeconds: number[] = [];
    let bytes = 0;
    for (let run = 0; run < runs; run++) {
      const sink = nullSink();
      const writer = writerFor(kind, format, sink);
      const start = performance.now();
      // CPU of this thread alone (the one building the file; zlib's deflate runs on libuv's pool): steadier than wall time on a shared machine.
      const cpu0 = process.threadCpuUsage();
      for (const row of rows) await writer.writeRow(row);
      await writer.finish(summary);
      seconds.push((performance.now() - start) / 1000);
      const cpu = process.threadCpuUsage(cpu0);
      cpuSeconds.push((cpu.user + cpu.system) / 1e6);
      bytes = sink.bytes;
    }
    result.formats[format] = { seconds, cpuSeconds, bytes };
  }
  process.stdout.write(`RESULT ${JSON.stringify({ ...result, peakRss: procMemory(process.pid).peak })}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`writer-only failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
