import { dec, layoutDate, sideAndCents, type ImportLayout, type LayoutIdentifiers } from './common';
import { delimitedRecord } from './records';
import type { TextRules } from './text';

/**
 * Sage 100, the layout of Sage's own import sample (docs/accounting.md
 * §Sage 100): UTF-8 with a BOM, CR LF, 11 columns separated by TAB. Widths
 * count characters (UTF-16 code units), as Sage's .NET reader does.
 */

const RULES: TextRules = { codePage: 'utf8', measureChars: true };
const IDS: LayoutIdentifiers = {
  JournalCode: { rules: RULES, width: null },
  CompteNum: { rules: RULES, width: null },
  CompAuxNum: { rules: RULES, width: null },
  PieceRef: { rules: RULES, width: 13 },
  entryNumberDigits: null,
  receivableLine: ['JournalCode', 'PieceRef', 'CompteNum', 'CompAuxNum'],
};

export const SAGE100_LAYOUT: ImportLayout = {
  codePage: 'utf8',
  bom: true,
  measureChars: true,
  identifiers: IDS,
  lineWriter(checks) {
    return (line) => {
      const doc = line.PieceRef;
      const { side, cents } = sideAndCents(line);
      const amount = dec(cents, ',');
      return delimitedRecord('Sage 100', '\t', [
        'G',
        checks.identifier(line.JournalCode, 'JournalCode', IDS.JournalCode, doc),
        layoutDate(line.EcritureDate, 'DDMMYY'),
        checks.identifier(line.PieceRef, 'PieceRef', IDS.PieceRef, doc),
        checks.identifier(line.CompteNum, 'CompteNum', IDS.CompteNum, doc),
        line.CompAuxNum ? checks.identifier(line.CompAuxNum, 'CompAuxNum', IDS.CompAuxNum, doc) : '',
        checks.label(line.EcritureLib, 'EcritureLib', 69, RULES, doc),
        '',
        '',
        side === 'D' ? amount : '0,00',
        side === 'C' ? amount : '0,00',
      ]);
    };
  },
};
