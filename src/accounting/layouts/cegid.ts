import { dec, layoutDate, sideAndCents, type ImportLayout, type LayoutIdentifiers } from './common';
import { delimitedRecord } from './records';
import type { TextRules } from './text';

/**
 * Cegid Expert's configurable import (docs/accounting.md §Cegid):
 * Windows-1252, CR LF, 8 fields separated by `;`, no quoting, no widths.
 * `;` becomes `,` in labels; an identifier holding `;` is refused.
 */

const LABEL: TextRules = { codePage: 'windows1252', replace: (t) => t.replace(/;/g, ',') };
const CODE: TextRules = { codePage: 'windows1252', forbidden: /;/ };
const IDS: LayoutIdentifiers = {
  JournalCode: { rules: CODE, width: null },
  CompteNum: { rules: CODE, width: null },
  CompAuxNum: { rules: CODE, width: null },
  PieceRef: { rules: CODE, width: null },
  entryNumberDigits: null,
  receivableLine: ['JournalCode', 'CompteNum', 'CompAuxNum', 'PieceRef'],
};

export const CEGID_LAYOUT: ImportLayout = {
  codePage: 'windows1252',
  bom: false,
  identifiers: IDS,
  lineWriter(checks) {
    return (line) => {
      const doc = line.PieceRef;
      const { side, cents } = sideAndCents(line);
      return delimitedRecord('Cegid', ';', [
        layoutDate(line.EcritureDate, 'DDMMYYYY'),
        checks.identifier(line.JournalCode, 'JournalCode', IDS.JournalCode, doc),
        checks.identifier(line.CompteNum, 'CompteNum', IDS.CompteNum, doc),
        line.CompAuxNum ? checks.identifier(line.CompAuxNum, 'CompAuxNum', IDS.CompAuxNum, doc) : '',
        side,
        dec(cents, ','),
        checks.label(line.EcritureLib, 'EcritureLib', undefined, LABEL, doc),
        checks.identifier(line.PieceRef, 'PieceRef', IDS.PieceRef, doc),
      ]);
    };
  },
};
