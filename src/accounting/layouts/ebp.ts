import { accountWritten, dec, layoutDate, sideAndCents, type ImportLayout, type LayoutIdentifiers } from './common';
import { delimitedRecord } from './records';
import type { TextRules } from './text';

/**
 * EBP entries import (docs/accounting.md §EBP): Windows-1252, CR LF, 11
 * fields separated by `,`; fields 6 and 7 between `"`. `"` becomes `'` in
 * labels; a journal or account holding `,` or `"`, a piece holding `"`, is refused.
 */

const LABEL: TextRules = { codePage: 'windows1252', replace: (t) => t.replace(/"/g, "'") };
const CODE: TextRules = { codePage: 'windows1252', forbidden: /[",]/ };
const PIECE: TextRules = { codePage: 'windows1252', forbidden: /"/ };
const IDS: LayoutIdentifiers = {
  JournalCode: { rules: CODE, width: 4 },
  CompteNum: { rules: CODE, width: 15 },
  CompAuxNum: { rules: CODE, width: 15 },
  PieceRef: { rules: PIECE, width: 15 },
  entryNumberDigits: null,
  receivableLine: ['JournalCode', 'Account', 'PieceRef'],
};

export const EBP_LAYOUT: ImportLayout = {
  codePage: 'windows1252',
  bom: false,
  identifiers: IDS,
  lineWriter(checks) {
    let lineNumber = 0;
    return (line) => {
      const doc = line.PieceRef;
      const { side, cents } = sideAndCents(line);
      const account = accountWritten(line);
      const date = layoutDate(line.EcritureDate, 'DDMMYYYY');
      return delimitedRecord('EBP', ',', [
        String(++lineNumber),
        date,
        checks.identifier(line.JournalCode, 'JournalCode', IDS.JournalCode, doc),
        checks.identifier(account.value, account.field, IDS[account.field], doc),
        '',
        { quoted: checks.label(line.EcritureLib, 'EcritureLib', 40, LABEL, doc) },
        { quoted: checks.identifier(line.PieceRef, 'PieceRef', IDS.PieceRef, doc) },
        dec(cents, '.'),
        side,
        date,
        '',
      ]);
    };
  },
};
