import type { Writable } from 'node:stream';
import { latin9Bytes, toLatin9Text } from '../../accounting/fec-text';
import { formatDecimal, parseCalendarDate, type ColumnDef } from '../cells';
import { DelimitedTextWriter, type FieldFormatter } from './delimited';

/*
 * The FEC layout (Livre des procédures fiscales, art. A47 A-1; DESIGN §9):
 * a first line with the field names (the columns' keys), one line per entry
 * line, fields separated by a tab, lines ended by CRLF, ISO-8859-15, no
 * quoting (text cannot hold the separators: they become spaces), dates
 * AAAAMMJJ, amounts with a decimal comma and two decimals, no grouping.
 */

const SEPARATOR = '\t';

function fecField<Row>(column: ColumnDef<Row>): FieldFormatter<Row> {
  switch (column.type) {
    case 'text':
    case 'code':
      return (row) => {
        const v = column.value(row, 'fr-FR');
        return v === null || v === undefined ? '' : toLatin9Text(String(v));
      };
    case 'date':
      return (row) => {
        const v = column.value(row, 'fr-FR');
        if (v === null || v === undefined) return '';
        parseCalendarDate(v);
        return v.slice(0, 4) + v.slice(5, 7) + v.slice(8, 10);
      };
    case 'money':
    case 'decimal':
    case 'percent':
      return (row) => {
        const v = column.value(row, 'fr-FR');
        return v === null || v === undefined ? '' : formatDecimal(v, column.scale, ',');
      };
    case 'integer':
      return (row) => {
        const v = column.value(row, 'fr-FR');
        if (v === null || v === undefined) return '';
        if (!Number.isSafeInteger(v)) throw new TypeError(`Column ${column.key}: expected an integer, got ${v}`);
        return String(v);
      };
    default: {
      const never: never = column;
      throw new Error(`Unknown column type: ${JSON.stringify(never)}`);
    }
  }
}

export interface FecWriterOptions<Row> {
  /** Columns marked `notInFec` are left out. */
  columns: readonly ColumnDef<Row>[];
  output: Writable;
}

/** A FEC text file, encoded ISO-8859-15; the same chunking and backpressure as the CSV writer. */
export class FecExportWriter<Row> extends DelimitedTextWriter<Row> {
  constructor(opts: FecWriterOptions<Row>) {
    const columns = opts.columns.filter((c) => !c.notInFec);
    super(
      opts.output,
      columns.map((c) => fecField(c)),
      SEPARATOR,
      columns.map((c) => toLatin9Text(c.key)).join(SEPARATOR),
      latin9Bytes,
    );
  }
}
