/**
 * The FEC writer's field formatting (src/exports/writers/fec.ts) keeps each
 * field's last value and takes a shortcut for amounts as formatCents prints
 * them: its bytes must be those of the generic formatting (formatDecimal,
 * toLatin9Text) for every value, repeated or not.
 */
import { PassThrough } from 'node:stream';
import { decodeLatin9, toLatin9Text } from '../../src/accounting/fec-text';
import { formatDecimal, type ColumnDef } from '../../src/exports/cells';
import type { ExportSummary } from '../../src/exports/writers/writer';
import { FecExportWriter } from '../../src/exports/writers/fec';

interface Row {
  amount: string | null;
  quantity: string | null;
  day: string | null;
  label: string | null;
  n: number | null;
}

const COLUMNS: ColumnDef<Row>[] = [
  { key: 'Montant', header: { 'fr-FR': 'Montant', 'en-GB': 'Amount' }, type: 'money', scale: 2, width: 10, value: (r) => r.amount },
  { key: 'Quantite', header: { 'fr-FR': 'Quantite', 'en-GB': 'Quantity' }, type: 'decimal', scale: 3, width: 10, value: (r) => r.quantity },
  { key: 'Jour', header: { 'fr-FR': 'Jour', 'en-GB': 'Day' }, type: 'date', width: 10, value: (r) => r.day },
  { key: 'Libelle', header: { 'fr-FR': 'Libelle', 'en-GB': 'Label' }, type: 'text', width: 10, value: (r) => r.label },
  { key: 'Num', header: { 'fr-FR': 'Num', 'en-GB': 'No' }, type: 'integer', width: 10, value: (r) => r.n },
];

const SUMMARY: ExportSummary = {
  tenantName: 't', requestedBy: 'u', requestedAt: new Date(), generatedAt: new Date(), selection: '',
  invoiceCount: 0, creditNoteCount: 0, rowCount: 0, totalDue: '0.00', totalPaid: '0.00', totalRemaining: '0.00',
};

it('writes every amount, date and text as the generic formatting does, repeated values included', async () => {
  const amounts = ['0.00', '0.00', '-0.00', '-0.50', '-0.50', '1234.50', '1234.5', '007.10', '12.345', '-12.344', '1000000.01', '.5', '+3.00', '10.00', null, '10.00'];
  const labels = ['Facture F1 ÉTÉ', 'Facture F1 ÉTÉ', 'a|b\tc', 'Œuvre 🎻', null, 'Œuvre 🎻', '', 'x'];
  const rows: Row[] = amounts.map((amount, i) => ({
    amount,
    quantity: i % 3 ? '1.5' : null,
    day: ['2025-03-10', '2025-03-10', null, '2024-02-29'][i % 4],
    label: labels[i % labels.length],
    n: i % 5 === 4 ? null : Math.floor(i / 2),
  }));
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  const writer = new FecExportWriter<Row>({ columns: COLUMNS, output });
  for (const r of rows) await writer.writeRow(r);
  await writer.finish(SUMMARY);

  const expected = [
    'Montant\tQuantite\tJour\tLibelle\tNum',
    ...rows.map((r) =>
      [
        r.amount === null ? '' : formatDecimal(r.amount, 2, ','),
        r.quantity === null ? '' : formatDecimal(r.quantity, 3, ','),
        r.day === null ? '' : r.day.replace(/-/g, ''),
        r.label === null ? '' : toLatin9Text(r.label),
        r.n === null ? '' : String(r.n),
      ].join('\t'),
    ),
  ];
  const text = decodeLatin9(Buffer.concat(chunks));
  expect(text).toBe(expected.map((l) => decodeLatin9(Buffer.from(l, 'latin1'))).join('\r\n') + '\r\n');
  // The amounts as an accountant reads them (the shortcut keeps -0,50 and turns -0.00 into 0,00).
  expect(text.split('\r\n').slice(1, 12).map((l) => l.split('\t')[0])).toEqual(['0,00', '0,00', '0,00', '-0,50', '-0,50', '1234,50', '1234,50', '7,10', '12,35', '-12,34', '1000000,01']);
});

it('refuses a date that is not yyyy-mm-dd, even after a valid one', async () => {
  const output = new PassThrough();
  output.resume();
  const writer = new FecExportWriter<Row>({ columns: COLUMNS, output });
  await writer.writeRow({ amount: '1.00', quantity: null, day: '2025-03-10', label: null, n: 1 });
  await expect(writer.writeRow({ amount: '1.00', quantity: null, day: '10/03/2025', label: null, n: 1 })).rejects.toThrow(/yyyy-mm-dd/);
});
