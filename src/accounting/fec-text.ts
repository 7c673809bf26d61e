/**
 * Text for a FEC file (ISO-8859-15). What the charset lacks is transliterated
 * (letters lose their accents through NFD: `Ễ` → `E`), or becomes `?`
 * (emoji); tab, CR, LF and `|` (separators of the FEC and of importers)
 * become spaces. The result holds only characters whose ISO-8859-15 byte is
 * their latin-1 code unit, so that `Buffer.from(text, 'latin1')` encodes it.
 */

/** Where ISO-8859-15 differs from ISO-8859-1: the Unicode character and its byte. */
const LATIN9_SPECIALS: ReadonlyMap<string, number> = new Map([
  ['€', 0xa4],
  ['Š', 0xa6],
  ['š', 0xa8],
  ['Ž', 0xb4],
  ['ž', 0xb8],
  ['Œ', 0xbc],
  ['œ', 0xbd],
  ['Ÿ', 0xbe],
]);
/** Latin-1 characters at those bytes, which ISO-8859-15 does not have. */
const LATIN1_REPLACED = new Set([0xa4, 0xa6, 0xa8, 0xb4, 0xb8, 0xbc, 0xbd, 0xbe]);

/** Typographic characters a French text often carries, and their closest plain form. */
const PUNCTUATION: ReadonlyMap<string, string> = new Map([
  ['\u2018', "'"], ['\u2019', "'"], ['\u201a', "'"], ['\u201b', "'"], ['\u2032', "'"],
  ['\u201c', '"'], ['\u201d', '"'], ['\u201e', '"'], ['\u2033', '"'],
  ['\u2010', '-'], ['\u2011', '-'], ['\u2012', '-'], ['\u2013', '-'], ['\u2014', '-'], ['\u2212', '-'],
  ['\u2026', '...'], ['\u2022', '-'], ['\u00a0', ' '], ['\u202f', ' '], ['\u2009', ' '], ['\u2002', ' '], ['\u2003', ' '],
  ['\u2122', 'TM'], ['\u0131', 'i'], ['\u0141', 'L'], ['\u0142', 'l'], ['\u0110', 'D'], ['\u0111', 'd'], ['\u1e9e', 'SS'],
]);

/** Only printable ASCII and latin-1 letters that ISO-8859-15 keeps: nothing to do (the common case). */
const PLAIN = /^[\x20-\x7b\x7d\x7e\xa0-\xa3\xa5\xa7\xa9-\xb3\xb5-\xb7\xb9-\xbb\xbf-\xff]*$/;
const COMBINING = /\p{M}/gu;
const FORMAT_CHAR = /^[\p{Cf}]$/u;

/** One code point → latin-1 code units of its ISO-8859-15 bytes ('' to drop it). */
function convertCodePoint(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (ch === '\t' || ch === '\r' || ch === '\n' || ch === '|') return ' ';
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return ' ';
  const special = LATIN9_SPECIALS.get(ch);
  if (special !== undefined) return String.fromCharCode(special);
  if (code <= 0xff && !LATIN1_REPLACED.has(code)) return ch;
  const punct = PUNCTUATION.get(ch);
  if (punct !== undefined) return punct;
  if (FORMAT_CHAR.test(ch)) return ''; // zero-width joiners, marks of direction
  const stripped = ch.normalize('NFD').replace(COMBINING, '');
  if (stripped === '') return ''; // a lone combining mark (or a variation selector)
  if (stripped !== ch) {
    let out = '';
    for (const c of stripped) {
      const converted = convertCodePoint(c);
      if (converted === '?') return '?';
      out += converted;
    }
    return out;
  }
  return '?';
}

/** Text whose latin-1 code units are its ISO-8859-15 bytes (see the file's comment). */
export function toLatin9Text(value: string): string {
  if (PLAIN.test(value)) return value;
  // NFC first: a decomposed `é` (e + U+0301) is a character ISO-8859-15 has.
  let out = '';
  for (const ch of value.normalize('NFC')) out += convertCodePoint(ch);
  return out;
}

/** Encodes text made by toLatin9Text (or ASCII) as ISO-8859-15 bytes. */
export function latin9Bytes(latin9Text: string): Buffer {
  return Buffer.from(latin9Text, 'latin1');
}

/** ISO-8859-15 bytes → a JS string (to read a FEC file back). */
export function decodeLatin9(bytes: Buffer): string {
  let out = '';
  const reverse = new Map([...LATIN9_SPECIALS].map(([c, b]) => [b, c]));
  for (const b of bytes) out += reverse.get(b) ?? String.fromCharCode(b);
  return out;
}
