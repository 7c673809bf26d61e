import type { AccountingEntryLine } from '../entries';
import type { AccountingSettingsData } from '../settings';
import { ProblemList } from './problems';
import { fitLabel, identifierText, labelText, toBytes, type TextRules } from './text';

/**
 * What the five layouts share: the side and cents of a line, the account
 * written, amounts and dates without floats or time zones, and the checks of
 * identifiers (refused, never cut) and labels (cut, counted).
 */

/** Rule codes of identifiers (docs/accounting.md). */
export const RULE = {
  ACCOUNT_TOO_LONG: 'ACCOUNT_TOO_LONG',
  AUXILIARY_TOO_LONG: 'AUXILIARY_TOO_LONG',
  PIECE_REF_TOO_LONG: 'PIECE_REF_TOO_LONG',
  JOURNAL_CODE_TOO_LONG: 'JOURNAL_CODE_TOO_LONG',
  ENTRY_NUMBER_TOO_LONG: 'ENTRY_NUMBER_TOO_LONG',
  IDENTIFIER_NOT_ENCODABLE: 'IDENTIFIER_NOT_ENCODABLE',
  AMOUNT_TOO_LARGE: 'AMOUNT_TOO_LARGE',
  LABEL_SHORTENED: 'LABEL_SHORTENED',
} as const;

export type IdentifierField = 'CompteNum' | 'CompAuxNum' | 'PieceRef' | 'JournalCode';
export const TOO_LONG: Readonly<Record<IdentifierField, string>> = {
  CompteNum: RULE.ACCOUNT_TOO_LONG,
  CompAuxNum: RULE.AUXILIARY_TOO_LONG,
  PieceRef: RULE.PIECE_REF_TOO_LONG,
  JournalCode: RULE.JOURNAL_CODE_TOO_LONG,
};

/** How a layout writes one identifier field: its text rules (code page, forbidden characters) and its width, null when unlimited. */
export interface IdentifierSpec {
  readonly rules: TextRules;
  readonly width: number | null;
}

/**
 * What a receivable line checks, in the order its line writer checks it:
 * `Account` is the account written (CompAuxNum on the receivable line, else
 * CompteNum: QUADRA's M record, XIMPORT, EBP); `CustomerRecord` is QUADRA's C
 * record, written the first time a CompAuxNum other than the fallback
 * appears, which checks CompAuxNum again and the receivable line's
 * CompteNum. Every other line is checked for the same fields but CompAuxNum
 * (it has none), with its CompteNum.
 */
export type ReceivableLineCheck = 'JournalCode' | 'PieceRef' | 'EcritureNum' | 'Account' | 'CompteNum' | 'CompAuxNum' | 'CustomerRecord';

/**
 * The identifiers of a layout (docs/accounting.md, "Identifiers are refused"):
 * the one place their widths and code page are given. The line writer checks
 * with them; the request-time check (exports/kinds/accounting-identifiers.ts)
 * reads them to check the same in SQL.
 */
export interface LayoutIdentifiers {
  readonly JournalCode: IdentifierSpec;
  readonly PieceRef: IdentifierSpec;
  readonly CompteNum: IdentifierSpec;
  readonly CompAuxNum: IdentifierSpec;
  /** EcritureNum is written on at most this many digits; null when the layout does not write it. */
  readonly entryNumberDigits: number | null;
  readonly receivableLine: readonly ReceivableLineCheck[];
}

/** Why an identifier cannot be written as it is. */
export interface IdentifierRefusal {
  readonly rule: string;
  readonly width: number | null;
}
const NOT_ENCODABLE: IdentifierRefusal = Object.freeze({ rule: RULE.IDENTIFIER_NOT_ENCODABLE, width: null });

/**
 * An identifier as the layout writes it: its byte string, or why it is
 * refused (a character steps 2–4 would change, or longer than the field).
 * The one definition of both, for the line writers and the request-time check.
 */
export function writtenIdentifier(value: string | null, field: IdentifierField, spec: IdentifierSpec, measureChars: boolean): string | IdentifierRefusal {
  const text = identifierText(value, spec.rules);
  if (text === null) return NOT_ENCODABLE;
  const bytes = toBytes(text, spec.rules.codePage);
  if (spec.width !== null && (measureChars ? text.length : bytes.length) > spec.width) return { rule: TOO_LONG[field], width: spec.width };
  return bytes;
}

export interface LayoutOptions {
  settings: AccountingSettingsData;
}

/** Side `D` when Debit ≠ 0, else `C`; the amount is that non-zero value in cents. */
export function sideAndCents(line: AccountingEntryLine): { side: 'D' | 'C'; cents: bigint } {
  const value = line.signedCents;
  return value > 0n ? { side: 'D', cents: value } : { side: 'C', cents: -value };
}

/** CompAuxNum on the receivable line when not empty, else CompteNum. */
export function accountWritten(line: AccountingEntryLine): { value: string; field: 'CompAuxNum' | 'CompteNum' } {
  return line.CompAuxNum ? { value: line.CompAuxNum, field: 'CompAuxNum' } : { value: line.CompteNum, field: 'CompteNum' };
}

/** `dec(c, s)`: ⌊c/100⌋, the separator, c mod 100 on 2 digits (5 → 0.05). */
export function dec(cents: bigint, separator: string): string {
  if (cents < 0n) throw new Error(`A layout amount is never negative (got ${cents} cents)`);
  return `${cents / 100n}${separator}${(cents % 100n).toString().padStart(2, '0')}`;
}

/** The last date written, per pattern: a document's lines share theirs. */
const lastDate = { DDMMYY: { iso: '', out: '' }, DDMMYYYY: { iso: '', out: '' }, YYYYMMDD: { iso: '', out: '' } };

/** `yyyy-mm-dd` → `DDMMYY` / `DDMMYYYY` / `YYYYMMDD`, as written (no time zone arithmetic). */
export function layoutDate(isoDate: string, pattern: 'DDMMYY' | 'DDMMYYYY' | 'YYYYMMDD'): string {
  const last = lastDate[pattern];
  if (isoDate !== last.iso) {
    last.out = convertDate(isoDate, pattern);
    last.iso = isoDate;
  }
  return last.out;
}

function convertDate(isoDate: string, pattern: 'DDMMYY' | 'DDMMYYYY' | 'YYYYMMDD'): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate);
  if (!m) throw new Error(`Not a calendar date: ${JSON.stringify(isoDate)}`);
  const [, y, mo, d] = m;
  if (pattern === 'DDMMYY') return d + mo + y.slice(2);
  if (pattern === 'DDMMYYYY') return d + mo + y;
  return y + mo + d;
}

/**
 * One layout's view of the file being written: its text rules, and the
 * problems and warnings found so far, each naming the entry's document.
 */
export class LayoutChecks {
  readonly problems = new ProblemList();
  readonly warnings = new ProblemList();
  private lastLabel: { value: string | null; rules: TextRules | null; text: string } = { value: null, rules: null, text: '' };
  private readonly lastIdentifier: Partial<Record<IdentifierField, { value: string | null; spec: IdentifierSpec; written: string | IdentifierRefusal }>> = {};

  constructor(private readonly measureChars = false) {}

  /**
   * An identifier as written: its byte string, or '' after recording why it
   * cannot be written (not encodable as is, or longer than `width`).
   */
  identifier(value: string | null, field: IdentifierField, spec: IdentifierSpec, document: string): string {
    // The same value as the field's previous one, most of the time (the journal, a document's piece on each of its lines).
    const last = this.lastIdentifier[field];
    let written: string | IdentifierRefusal;
    if (last && last.value === value && last.spec === spec) written = last.written;
    else {
      written = writtenIdentifier(value, field, spec, this.measureChars);
      this.lastIdentifier[field] = { value, spec, written };
    }
    if (typeof written === 'string') return written;
    this.problems.add(written.rule, field, written.width, document);
    return '';
  }

  /** A free label cut to `width` (a `LABEL_SHORTENED` warning when cut, unless `silent`). */
  label(value: string | null, field: string, width: number | undefined, rules: TextRules, document: string, silent = false): string {
    // A label written twice in a record (Quadra's 20 and 30 bytes) goes through steps 1–5 once.
    if (value !== this.lastLabel.value || rules !== this.lastLabel.rules) this.lastLabel = { value, rules, text: labelText(value, rules) };
    const { bytes, cut } = fitLabel(this.lastLabel.text, rules, width);
    if (cut && !silent) this.warnings.add(RULE.LABEL_SHORTENED, field, width ?? null, document);
    return bytes;
  }

  /**
   * Whether an amount fits the layout's amount field; else false after
   * recording AMOUNT_TOO_LARGE (field Debit or Credit, its side).
   */
  amountFits(cents: bigint, side: 'D' | 'C', field: AmountField, document: string): boolean {
    if (cents <= field.maxCents) return true;
    this.problems.add(RULE.AMOUNT_TOO_LARGE, side === 'D' ? 'Debit' : 'Credit', field.width, document);
    return false;
  }

  /** EcritureNum written on at most `digits` digits. */
  entryNumber(n: number, digits: number | null, document: string): string {
    if (digits === null) throw new Error('This layout does not write EcritureNum');
    const text = String(n);
    if (text.length > digits) {
      this.problems.add(RULE.ENTRY_NUMBER_TOO_LONG, 'EcritureNum', digits, document);
      return '';
    }
    return text;
  }
}

/** Turns one entry line into its record(s) (byte strings, several joined by CR LF). */
export type LayoutLineWriter = (line: AccountingEntryLine) => string;

/** A layout's amount field, when it is bounded: the largest amount it holds (cents) and its width. */
export interface AmountField {
  readonly maxCents: bigint;
  readonly width: number;
}

/** One importer layout: how its file is named and encoded, and how its lines are written. */
export interface ImportLayout {
  readonly codePage: TextRules['codePage'];
  /** UTF-8 byte order mark at the start of the file (SAGE100). */
  readonly bom: boolean;
  /** Widths counted in characters (SAGE100), else in bytes. */
  readonly measureChars?: boolean;
  /** A name the program requires (XIMPORT.TXT); else the dated `ecritures-comptables_<yyyymmdd-HHMM>.txt`. */
  readonly fixedFileName?: string;
  /** Its identifier fields: widths, code page, forbidden characters, and what a receivable line checks. */
  readonly identifiers: LayoutIdentifiers;
  /**
   * Its amount field, when an amount the data allows may not fit it: a line
   * is checked for it first (AMOUNT_TOO_LARGE). Only a VAT line can exceed
   * it: the other amounts are a column's numeric(12,2) or less.
   */
  readonly amountField?: AmountField;
  /** A fresh line writer for one file (it may remember what it wrote, e.g. Quadra's customer records). */
  lineWriter(checks: LayoutChecks, options: LayoutOptions): LayoutLineWriter;
}
