import { accountWritten, layoutDate, sideAndCents, type AmountField, type ImportLayout, type LayoutIdentifiers } from './common';
import { FixedRecord } from './records';
import { labelBytes, type TextRules } from './text';

/**
 * QuadraCOMPTA "Fichier d'entrée ASCII" (docs/accounting.md §Quadra): pure
 * ASCII, fixed width, CR LF. Per entry: a `C` record (453 bytes) for a
 * customer account not met yet in the file — never for the fallback account
 * shared by payers without identifier — then one `M` record (231 bytes) per line.
 */

const RULES: TextRules = { codePage: 'ascii' };
const IDS: LayoutIdentifiers = {
  JournalCode: { rules: RULES, width: 3 },
  CompteNum: { rules: RULES, width: 8 },
  CompAuxNum: { rules: RULES, width: 8 },
  PieceRef: { rules: RULES, width: 10 },
  entryNumberDigits: 8,
  receivableLine: ['JournalCode', 'Account', 'EcritureNum', 'PieceRef', 'CustomerRecord'],
};
const M_LENGTH = 231;
const C_LENGTH = 453;
/** `+` and 12 digits of cents: 9,999,999,999.99 € at most. */
const AMOUNT: AmountField = { maxCents: 999_999_999_999n, width: 13 };

/** The payer's last name, upper-cased, `A–Z 0–9` only, first 7, space-padded (`D'Almeida-Léon` → `DALMEID`). */
export function quadraKey(lastName: string | null): string {
  return labelBytes(lastName, RULES).bytes.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 7);
}

export const QUADRA_LAYOUT: ImportLayout = {
  codePage: 'ascii',
  bom: false,
  identifiers: IDS,
  amountField: AMOUNT,
  lineWriter(checks, { settings }) {
    const customers = new Set<string>();
    return (line) => {
      const doc = line.PieceRef;
      const { side, cents } = sideAndCents(line);
      const amount = checks.amountFits(cents, side, AMOUNT, doc) ? `+${cents.toString().padStart(12, '0')}` : '';
      const account = accountWritten(line);
      const journal = checks.identifier(line.JournalCode, 'JournalCode', IDS.JournalCode, doc);
      const label = checks.label(line.EcritureLib, 'EcritureLib', 30, RULES, doc);
      const m = new FixedRecord('Quadra M', M_LENGTH)
        .field(1, 1, 'M')
        .field(2, 8, checks.identifier(account.value, account.field, IDS[account.field], doc))
        .field(10, 2, journal.length <= 2 ? journal : '')
        .field(12, 3, '000')
        .field(15, 6, layoutDate(line.EcritureDate, 'DDMMYY'))
        .blank(21, 1)
        .field(22, 20, checks.label(line.EcritureLib, 'EcritureLib', 20, RULES, doc, true))
        .field(42, 1, side)
        .field(43, 13, amount)
        .blank(56, 8)
        .field(64, 6, '000000')
        .blank(70, 5)
        .blank(75, 5)
        .blank(80, 20)
        .field(100, 8, checks.entryNumber(line.EcritureNum, IDS.entryNumberDigits, doc))
        .field(108, 3, 'EUR')
        .field(111, 3, journal)
        .blank(114, 3)
        .field(117, 30, label)
        .blank(147, 2)
        .field(149, 10, checks.identifier(line.PieceRef, 'PieceRef', IDS.PieceRef, doc))
        .blank(159, 73)
        .build();

      const aux = line.CompAuxNum;
      if (!aux || aux === settings.fallbackAuxiliaryAccount || customers.has(aux)) return m;
      customers.add(aux);
      const c = new FixedRecord('Quadra C', C_LENGTH)
        .field(1, 1, 'C')
        .field(2, 8, checks.identifier(aux, 'CompAuxNum', IDS.CompAuxNum, doc))
        .field(10, 30, checks.label(line.CompAuxLib, 'CompAuxLib', 30, RULES, doc))
        .field(40, 7, quadraKey(line.payerLastName))
        .blank(47, 52)
        .field(99, 8, checks.identifier(line.CompteNum, 'CompteNum', IDS.CompteNum, doc))
        .blank(107, 110)
        .field(217, 1, settings.quadraUpdateExistingAccounts ? '2' : '')
        .field(218, 1, 'C')
        .blank(219, 235)
        .build();
      return `${c}\r\n${m}`;
    };
  },
};
