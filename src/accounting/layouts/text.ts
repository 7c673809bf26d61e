import iconv from 'iconv-lite';

/**
 * The text pipeline of the importer layouts (docs/accounting.md, "Text"):
 * NFC, control characters → one space, the format's separator/quote
 * replacement, transliteration of what the code page lacks (labels only),
 * trim, encode, measure in bytes. Values come out as *byte strings*: one
 * JavaScript code unit (0–255) per byte of the target encoding, so that a
 * width is a `length` and the whole line is encoded once with
 * `Buffer.from(line, 'latin1')`.
 */

export type CodePage = 'ascii' | 'windows1252' | 'utf8';

/** Characters of Windows-1252 at bytes 0x80–0x9F (the rest of 0x00–0xFF is latin-1). */
const CP1252_HIGH = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';
const CP1252_EXTRA = new Set(CP1252_HIGH);

/** Used only where the target lacks the character. */
const TABLE: ReadonlyMap<string, string> = new Map([
  ['œ', 'oe'], ['Œ', 'OE'], ['æ', 'ae'], ['Æ', 'AE'],
  ['\u2019', "'"], ['\u2018', "'"],
  ['\u201c', '"'], ['\u201d', '"'], ['«', '"'], ['»', '"'],
  ['\u2013', '-'], ['\u2014', '-'], ['\u2026', '...'], ['€', 'EUR'],
  ['\u00a0', ' '], ['\u202f', ' '],
]);

const CONTROL_RUN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const COMBINING = /\p{M}/gu;
/**
 * PostgreSQL's pattern for a value holding a character outside printable
 * ASCII (the complement of isPrintableAscii): only such values, and those
 * holding a forbidden character (`forbiddenAscii`), can be anything but
 * themselves trimmed of spaces once through identifierText.
 */
export const NOT_PRINTABLE_ASCII_SQL = '[^ -~]';

/** The code page has this character (one code point). */
export function encodable(ch: string, codePage: CodePage): boolean {
  if (codePage === 'utf8') return true;
  const code = ch.codePointAt(0)!;
  if (code < 0x80) return true;
  if (codePage === 'ascii') return false;
  return (code >= 0xa0 && code <= 0xff) || CP1252_EXTRA.has(ch);
}

/** Step 4 for one character the code page may lack. */
function transliterate(ch: string, codePage: CodePage): string {
  if (encodable(ch, codePage)) return ch;
  const mapped = TABLE.get(ch);
  if (mapped !== undefined && [...mapped].every((c) => encodable(c, codePage))) return mapped;
  const stripped = ch.normalize('NFD').replace(COMBINING, '');
  if (stripped && stripped !== ch && [...stripped].every((c) => encodable(c, codePage))) return stripped;
  return '?';
}

/** Step 4 answers per code page: a file meets the same few accented letters over and over. Bounded (any text may come in). */
const TRANSLITERATED: Record<'ascii' | 'windows1252', Map<string, string>> = { ascii: new Map(), windows1252: new Map() };
const MAX_TRANSLITERATED = 4096;
/** One character outside ASCII (a surrogate pair as one). */
const NON_ASCII_CHAR = /[^\x00-\x7f]/gu;

/** Step 4 on a whole text: only its non-ASCII characters can change. */
function transliterateText(text: string, codePage: 'ascii' | 'windows1252'): string {
  const known = TRANSLITERATED[codePage];
  return text.replace(NON_ASCII_CHAR, (ch) => {
    let out = known.get(ch);
    if (out === undefined) {
      out = transliterate(ch, codePage);
      if (known.size >= MAX_TRANSLITERATED) known.clear();
      known.set(ch, out);
    }
    return out;
  });
}

/** Whether every character is printable ASCII (0x20–0x7e): such a text is its own byte string in every code page. */
export function isPrintableAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Whether every character is its own byte in Windows-1252 (ASCII and U+00A0–U+00FF, where it agrees with latin-1). */
function isOwnCp1252Byte(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || (c >= 0x80 && c < 0xa0)) return false;
  }
  return true;
}

/** Text → byte string in the code page (steps 6). */
export function toBytes(text: string, codePage: CodePage): string {
  if (isPrintableAscii(text)) return text;
  if (codePage === 'windows1252' && isOwnCp1252Byte(text)) return text;
  if (codePage === 'utf8') return Buffer.from(text, 'utf8').toString('latin1');
  return iconv.encode(text, codePage === 'ascii' ? 'ascii' : 'windows-1252').toString('latin1');
}

/** A byte string → the text it encodes (for readers and messages). */
export function fromBytes(bytes: Buffer, codePage: CodePage): string {
  if (codePage === 'utf8') return bytes.toString('utf8');
  return iconv.decode(bytes, codePage === 'ascii' ? 'ascii' : 'windows-1252');
}

export interface TextRules {
  codePage: CodePage;
  /** Step 3: the format's separator/quote replacement on a label. */
  replace?: (text: string) => string;
  /** Characters an identifier may not hold (the format's separator or quote): a character class, no flags. */
  forbidden?: RegExp;
  /** SAGE100 measures labels in characters (UTF-16 code units), not bytes. */
  measureChars?: boolean;
}

/**
 * The printable ASCII characters an identifier may not hold under `rules`
 * (`forbidden` is a set of characters: a value matches it when one of its
 * characters does).
 */
export function forbiddenAscii(rules: TextRules): string {
  if (!rules.forbidden) return '';
  let out = '';
  for (let c = 0x20; c <= 0x7e; c++) if (rules.forbidden.test(String.fromCharCode(c))) out += String.fromCharCode(c);
  return out;
}

/** A free label through steps 1–7, cut to `width` if given: the byte string and whether it was cut. */
export function labelBytes(value: string | null, rules: TextRules, width?: number): { bytes: string; cut: boolean } {
  return fitLabel(labelText(value, rules), rules, width);
}

/** Steps 1–5 of a free label: the text, transliterated where the code page lacks a character, trimmed; not yet encoded. */
export function labelText(value: string | null, rules: TextRules): string {
  let text = value ?? '';
  if (!isPrintableAscii(text)) {
    text = text.normalize('NFC').replace(CONTROL_RUN, ' ');
    if (rules.replace) text = rules.replace(text);
    if (rules.codePage !== 'utf8') text = transliterateText(text, rules.codePage);
  } else if (rules.replace) {
    text = rules.replace(text);
  }
  return text.trim();
}

/** Steps 6–7 of a free label (labelText's result): encoded, cut to `width` if given, never inside a character. */
export function fitLabel(text: string, rules: TextRules, width?: number): { bytes: string; cut: boolean } {
  if (width === undefined) return { bytes: toBytes(text, rules.codePage), cut: false };
  if (rules.measureChars) {
    if (text.length <= width) return { bytes: toBytes(text, rules.codePage), cut: false };
    let kept = '';
    for (const ch of text) {
      if (kept.length + ch.length > width) break;
      kept += ch;
    }
    return { bytes: toBytes(kept.trimEnd(), rules.codePage), cut: true };
  }
  const bytes = toBytes(text, rules.codePage);
  if (bytes.length <= width) return { bytes, cut: false };
  let cutAt = width;
  // UTF-8: never split a character (continuation bytes are 10xxxxxx).
  if (rules.codePage === 'utf8') while (cutAt > 0 && (bytes.charCodeAt(cutAt) & 0xc0) === 0x80) cutAt--;
  while (cutAt > 0 && bytes.charCodeAt(cutAt - 1) === 0x20) cutAt--;
  return { bytes: bytes.slice(0, cutAt), cut: true };
}

/**
 * An identifier: trimmed (step 5), or null when steps 2–4 would change it (a
 * control character, the format's separator or quote, a character the code
 * page lacks): it is refused, never rewritten. Returns the text, not yet encoded.
 */
export function identifierText(value: string | null, rules: TextRules): string | null {
  const raw = value ?? '';
  // Printable ASCII is already NFC.
  const text = isPrintableAscii(raw) ? raw.trim() : raw.normalize('NFC').trim();
  if (isPrintableAscii(text) && !rules.forbidden?.test(text)) return text;
  if (CONTROL.test(text) || rules.forbidden?.test(text)) return null;
  for (const ch of text) if (!encodable(ch, rules.codePage)) return null;
  return text;
}
