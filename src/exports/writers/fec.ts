import type { Writable } from 'node:stream';
import { latin9Bytes, toLatin9Text } from '../../accounting/fec-text';
import type { ColumnDef } from '../cells';
import { DelimitedTextWriter } from './delimited';
import { rememberingCellFormatter, type TextCellStyle } from './text-cells';

/*
 * The FEC layout (Livre des procédures fiscales, art. A47 A-1; docs/accounting.md):
 * a first line with the field names (the columns' keys), one line per entry
 * line, fields separated by a tab, lines ended by CRLF, ISO-8859-15, no
 * quoting (text cannot hold the separators: they become spaces), dates
 * AAAAMMJJ, amounts with a decimal comma and two decimals, no grouping.
 */

const SEPARATOR = '\t';

/** FEC cells: dates AAAAMMJJ, decimal comma, text in ISO-8859-15 without tab, CR, LF or `|`. */
const FEC_CELLS: TextCellStyle = { locale: 'fr-FR', decimalSeparator: ',', dateLayout: 'yyyymmdd', text: toLatin9Text };

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
      // The lines of an entry repeat their document's date, number and accounts, and every line has the
      // same journal and validation date: each field remembers its last cell.
      columns.map((c) => rememberingCellFormatter(c, FEC_CELLS)),
      SEPARATOR,
      columns.map((c) => toLatin9Text(c.key)).join(SEPARATOR),
      latin9Bytes,
    );
  }
}
