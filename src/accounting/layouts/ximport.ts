import { accountWritten, dec, layoutDate, sideAndCents, type AmountField, type ImportLayout, type LayoutIdentifiers } from './common';
import { blank, fixed, FixedLayout, slot } from './records';
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
/** 13 bytes: 10 digits, the separator, 2 digits. */
const AMOUNT: AmountField = { maxCents: 999_999_999_999n, width: 13 };

/** One record per entry line, field by field as docs/accounting.md §XIMPORT lists them. */
const RECORD = new FixedLayout('XIMPORT', 142, [
  slot(1, 5, 'entry number', 'right'),
  slot(6, 2, 'journal'),
  slot(8, 8, 'date YYYYMMDD'),
  blank(16, 8),
  slot(24, 12, 'piece'),
  slot(36, 11, 'account'),
  slot(47, 25, 'label'),
  slot(72, 13, 'amount', 'right'),
  slot(85, 1, 'side'),
  blank(86, 12),
  blank(98, 6),
  slot(104, 34, 'account label'),
  fixed(138, 1, 'O'),
  fixed(139, 4, '2003'),
]);

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
      return RECORD.build([
        checks.entryNumber(line.EcritureNum, IDS.entryNumberDigits, doc),
        checks.identifier(line.JournalCode, 'JournalCode', IDS.JournalCode, doc),
        layoutDate(line.EcritureDate, 'YYYYMMDD'),
        checks.identifier(line.PieceRef, 'PieceRef', IDS.PieceRef, doc),
        checks.identifier(account.value, account.field, IDS[account.field], doc),
        checks.label(line.EcritureLib, 'EcritureLib', 25, RULES, doc),
        amount,
        side,
        accountLabel,
      ]);
    };
  },
};
