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

/**
 * A field formatter that keeps its last value and text: the lines of an entry
 * repeat their document's date, number and accounts, and every line has the
 * same journal and validation date, so most fields cost one comparison.
 */
function remembering<Row, V>(value: (row: Row) => V | null | undefined, format: (v: V) => string): FieldFormatter<Row> {
  let last: V | null | undefined = undefined;
  let text = '';
  return (row) => {
    const v = value(row);
    if (v === last) return text;
    const next = v === null || v === undefined ? '' : format(v);
    last = v;
    text = next;
    return next;
  };
}

/** An amount as formatCents prints it (`1234.50`, `-0.50`, not `-0.00`): its FEC text is the same digits with a comma. */
const PLAIN_CENTS = /^(?:-(?!0\.00$))?(?:0|[1-9]\d*)\.\d\d$/;

function fecField<Row>(column: ColumnDef<Row>): FieldFormatter<Row> {
  switch (column.type) {
    case 'text':
    case 'code':
      return remembering((row: Row) => column.value(row, 'fr-FR'), (v) => toLatin9Text(String(v)));
    case 'date':
      return remembering(
        (row: Row) => column.value(row, 'fr-FR'),
        (v) => {
          parseCalendarDate(v);
          return v.slice(0, 4) + v.slice(5, 7) + v.slice(8, 10);
        },
      );
    case 'money':
    case 'decimal':
    case 'percent': {
      const scale = column.scale;
      return remembering(
        (row: Row) => column.value(row, 'fr-FR'),
        (v) => (scale === 2 && PLAIN_CENTS.test(v) ? `${v.slice(0, -3)},${v.slice(-2)}` : formatDecimal(v, scale, ',')),
      );
    }
    case 'integer':
      return remembering(
        (row: Row) => column.value(row, 'fr-FR'),
        (v) => {
          if (!Number.isSafeInteger(v)) throw new TypeError(`Column ${column.key}: expected an integer, got ${v}`);
          return String(v);
        },
      );
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
