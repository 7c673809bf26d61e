import { accountWritten, layoutDate, sideAndCents, type AmountField, type ImportLayout, type LayoutIdentifiers } from './common';
import { blank, fixed, FixedLayout, slot } from './records';
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
/** `+` and 12 digits of cents: 9,999,999,999.99 € at most. */
const AMOUNT: AmountField = { maxCents: 999_999_999_999n, width: 13 };

/** The payer's last name, upper-cased, `A–Z 0–9` only, first 7, space-padded (`D'Almeida-Léon` → `DALMEID`). */
export function quadraKey(lastName: string | null): string {
  return labelBytes(lastName, RULES).bytes.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 7);
}

/** The M record (one per entry line), field by field as docs/accounting.md §Quadra lists them. */
const M = new FixedLayout('Quadra M', 231, [
  fixed(1, 1, 'M'),
  slot(2, 8, 'account'),
  slot(10, 2, 'journal (2 bytes or blank)'),
  fixed(12, 3, '000'),
  slot(15, 6, 'date DDMMYY'),
  blank(21, 1),
  slot(22, 20, 'label (20)'),
  slot(42, 1, 'side'),
  slot(43, 13, 'amount'),
  blank(56, 8),
  fixed(64, 6, '000000'),
  blank(70, 5),
  blank(75, 5),
  blank(80, 20),
  slot(100, 8, 'entry number'),
  fixed(108, 3, 'EUR'),
  slot(111, 3, 'journal'),
  blank(114, 3),
  slot(117, 30, 'label'),
  blank(147, 2),
  slot(149, 10, 'piece'),
  blank(159, 73),
]);

/** The C record (a customer account, the first time it appears). */
const C = new FixedLayout('Quadra C', 453, [
  fixed(1, 1, 'C'),
  slot(2, 8, 'auxiliary account'),
  slot(10, 30, 'name'),
  slot(40, 7, 'key'),
  blank(47, 52),
  slot(99, 8, 'collective account'),
  blank(107, 110),
  slot(217, 1, 'update'),
  fixed(218, 1, 'C'),
  blank(219, 235),
]);

export const QUADRA_LAYOUT: ImportLayout = {
  codePage: 'ascii',
  bom: false,
  identifiers: IDS,
  amountField: AMOUNT,
  lineWriter(checks, { settings }) {
    const customers = new Set<string>();
    const update = settings.quadraUpdateExistingAccounts ? '2' : '';
    return (line) => {
      const doc = line.PieceRef;
      const { side, cents } = sideAndCents(line);
      const amount = checks.amountFits(cents, side, AMOUNT, doc) ? `+${cents.toString().padStart(12, '0')}` : '';
      const account = accountWritten(line);
      const journal = checks.identifier(line.JournalCode, 'JournalCode', IDS.JournalCode, doc);
      const accountBytes = checks.identifier(account.value, account.field, IDS[account.field], doc);
      const label = checks.label(line.EcritureLib, 'EcritureLib', 30, RULES, doc);
      const m = M.build([
        accountBytes,
        journal.length <= 2 ? journal : '',
        layoutDate(line.EcritureDate, 'DDMMYY'),
        checks.label(line.EcritureLib, 'EcritureLib', 20, RULES, doc, true),
        side,
        amount,
        checks.entryNumber(line.EcritureNum, IDS.entryNumberDigits, doc),
        journal,
        label,
        checks.identifier(line.PieceRef, 'PieceRef', IDS.PieceRef, doc),
      ]);

      const aux = line.CompAuxNum;
      if (!aux || aux === settings.fallbackAuxiliaryAccount || customers.has(aux)) return m;
      customers.add(aux);
      const c = C.build([
        checks.identifier(aux, 'CompAuxNum', IDS.CompAuxNum, doc),
        checks.label(line.CompAuxLib, 'CompAuxLib', 30, RULES, doc),
        quadraKey(line.payerLastName),
        checks.identifier(line.CompteNum, 'CompteNum', IDS.CompteNum, doc),
        update,
      ]);
      return `${c}\r\n${m}`;
    };
  },
};
