/**
 * Baseline "naive" (run by bench.ts in a child process of its own, for its
 * peak RSS): what a hurried team ships. Load every invoice with its payer
 * (and lines) through the TypeORM query builder, build the whole workbook in
 * memory with exceljs's `Workbook`, and `writeBuffer()` it. Capped at
 * `--max-invoices` invoices (in export order) because it does not scale.
 *
 * Prints one line `RESULT <json>` and exits.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import ExcelJS from 'exceljs';
import { createDataSource } from '../src/db/data-source';
import { ExportKind } from '../src/entities/enums';
import { Invoice } from '../src/entities/invoice.entity';
import { InvoiceLine } from '../src/entities/invoice-line.entity';
import { Payer } from '../src/entities/payer.entity';
import { columnsFor, DATA_SHEET_NAMES, type ColumnDef, type ExportRow } from '../src/exports/columns';
import type { InvoiceLineRow } from '../src/exports/kinds/invoice-lines';
import type { InvoiceRow } from '../src/exports/kinds/invoices';
import { procMemory } from '../tools/lib/util';

type Loaded = Invoice & { payer: Payer; lines?: InvoiceLine[] };

export interface NaiveResult {
  kind: ExportKind;
  invoices: number;
  rows: number;
  seconds: number[];
  loadSeconds: number[];
  bytes: number;
}

function invoiceRow(i: Loaded): InvoiceRow {
  return {
    type: i.type,
    number: i.number,
    billingDate: i.billingDate,
    roleNumber: i.roleNumber,
    payerLastName: i.payer.lastName,
    payerFirstName: i.payer.firstName,
    billingPeriod: i.billingPeriod,
    billingYear: i.billingYear,
    notes: i.notes,
    amountDue: i.amountDue,
    amountPaid: i.amountPaid,
    remainingDue: i.remainingDue,
    pendingCollection: i.pendingCollection,
    status: i.status,
    uniqueIdentifier: i.uniqueIdentifier,
    customerIdentifier: i.payer.customerIdentifier,
    familyQuotient: i.payer.familyQuotient,
    paymentMethod: i.paymentMethod,
  };
}

function lineRows(i: Loaded): InvoiceLineRow[] {
  return (i.lines ?? []).map((l) => ({
    type: i.type,
    number: i.number,
    billingDate: i.billingDate,
    payerLastName: i.payer.lastName,
    payerFirstName: i.payer.firstName,
    customerIdentifier: i.payer.customerIdentifier,
    billingYear: i.billingYear,
    billingPeriod: i.billingPeriod,
    position: l.position,
    label: l.label,
    beneficiary: l.beneficiary,
    activity: l.activity,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    discountAmount: l.discountAmount,
    amount: l.amount,
    vatRate: l.vatRate,
    accountingAccount: l.accountingAccount,
    analyticCode: l.analyticCode,
  }));
}

/** The cell value a hurried mapping writes: numbers through Number(), dates through new Date(). */
function cellValue(c: ColumnDef<ExportRow>, row: ExportRow): ExcelJS.CellValue {
  const v = c.value(row, 'fr-FR');
  if (v === null || v === undefined) return null;
  switch (c.type) {
    case 'date':
      return new Date(`${v}T00:00:00Z`);
    case 'money':
    case 'decimal':
    case 'percent':
      return Number(v);
    default:
      return v;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'database-url': { type: 'string' },
      'tenant-id': { type: 'string' },
      kind: { type: 'string' },
      'max-invoices': { type: 'string', default: '20000' },
      runs: { type: 'string', default: '1' },
    },
  });
  const kind = values.kind as ExportKind;
  const max = Number(values['max-invoices']);
  const ds = createDataSource(values['database-url']!, { poolSize: 2, applicationName: 'invoice-export-bench-naive' });
  await ds.initialize();
  const columns = columnsFor(kind) as readonly ColumnDef<ExportRow>[];
  const result: NaiveResult = { kind, invoices: 0, rows: 0, seconds: [], loadSeconds: [], bytes: 0 };

  for (let run = 0; run < Number(values.runs); run++) {
    const t0 = performance.now();
    const qb = ds
      .getRepository(Invoice)
      .createQueryBuilder('i')
      .leftJoinAndMapOne('i.payer', Payer, 'p', 'p.id = i.payerId AND p.tenantId = i.tenantId')
      .where('i.tenantId = :tenantId', { tenantId: values['tenant-id'] })
      // The cap: the first N invoices in export order (a LIMIT on the joined rows would cut invoices' lines).
      .andWhere('i.id IN (SELECT c.id FROM invoices c WHERE c.tenant_id = :tenantId ORDER BY c.billing_date, c.number LIMIT :max)', { max })
      .orderBy('i.billingDate')
      .addOrderBy('i.number');
    if (kind === ExportKind.INVOICE_LINES) {
      qb.leftJoinAndMapMany('i.lines', InvoiceLine, 'l', 'l.invoiceId = i.id AND l.tenantId = i.tenantId').addOrderBy('l.position');
    }
    const invoices = (await qb.getMany()) as Loaded[];
    const loaded = performance.now();

    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet(DATA_SHEET_NAMES[kind]['fr-FR']);
    sheet.columns = columns.map((c) => ({ header: c.header['fr-FR'], key: c.key, width: c.width }));
    sheet.getRow(1).font = { bold: true };
    let rows = 0;
    for (const invoice of invoices) {
      const records: ExportRow[] = kind === ExportKind.INVOICES ? [invoiceRow(invoice)] : lineRows(invoice);
      for (const record of records) {
        sheet.addRow(columns.map((c) => cellValue(c, record)));
        rows++;
      }
    }
    const buffer = await workbook.xlsx.writeBuffer();
    result.seconds.push((performance.now() - t0) / 1000);
    result.loadSeconds.push((loaded - t0) / 1000);
    result.invoices = invoices.length;
    result.rows = rows;
    result.bytes = buffer.byteLength;
  }
  await ds.destroy();
  process.stdout.write(`RESULT ${JSON.stringify({ ...result, peakRss: procMemory(process.pid).peak })}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`naive failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
