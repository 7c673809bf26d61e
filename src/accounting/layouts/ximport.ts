import { accountWritten, dec, layoutDate, sideAndCents, type AmountField, type ImportLayout, type LayoutIdentifiers } from './common';
import { FixedRecord } from './records';
import type { TextRules } from './text';

/**
 * Sage 50 / Ciel Compta `XIMPORT.TXT` (docs/accounting.md §XIMPORT):
 * Windows-1252, fixed width, one 142-byte record per line, CR LF.
 */

const RULES: TextRules = { codePage: 'windows1252' };
const IDS: LayoutIdentifiers = {
  JournalCode: { rules: RULES, width: 2 },
  CompteNum: { rules: RULES, width: 11 },
  CompAuxNum: { rules: RULES, width: 11 },
  PieceRef: { rules: RULES, width: 12 },
  entryNumberDigits: 5,
  receivableLine: ['EcritureNum', 'JournalCode', 'PieceRef', 'Account'],
};
const LENGTH = 142;
/** 13 bytes: 10 digits, the separator, 2 digits. */
const AMOUNT: AmountField = { maxCents: 999_999_999_999n, width: 13 };

export const XIMPORT_LAYOUT: ImportLayout = {
  codePage: 'windows1252',
  bom: false,
  // Sage 50 picks up exactly this name and renames it .BAK once imported.
  fixedFileName: 'XIMPORT.TXT',
  identifiers: IDS,
  amountField: AMOUNT,
  lineWriter(checks, { settings }) {
    const separator = settings.ximportDecimalComma ? ',' : '.';
    return (line) => {
      const doc = line.PieceRef;
      const { side, cents } = sideAndCents(line);
      const amount = checks.amountFits(cents, side, AMOUNT, doc) ? dec(cents, separator) : '';
      const account = accountWritten(line);
      const accountLabel = account.field === 'CompAuxNum'
        ? checks.label(line.CompAuxLib, 'CompAuxLib', 34, RULES, doc)
        : checks.label(line.CompteLib, 'CompteLib', 34, RULES, doc);
      return new FixedRecord('XIMPORT', LENGTH)
        .field(1, 5, checks.entryNumber(line.EcritureNum, IDS.entryNumberDigits, doc), 'right')
        .field(6, 2, checks.identifier(line.JournalCode, 'JournalCode', IDS.JournalCode, doc))
        .field(8, 8, layoutDate(line.EcritureDate, 'YYYYMMDD'))
        .blank(16, 8)
        .field(24, 12, checks.identifier(line.PieceRef, 'PieceRef', IDS.PieceRef, doc))
        .field(36, 11, checks.identifier(account.value, account.field, IDS[account.field], doc))
        .field(47, 25, checks.label(line.EcritureLib, 'EcritureLib', 25, RULES, doc))
        .field(72, 13, amount, 'right')
        .field(85, 1, side)
        .blank(86, 12)
        .blank(98, 6)
        .field(104, 34, accountLabel)
        .field(138, 1, 'O')
        .field(139, 4, '2003')
        .build();
    };
  },
};
