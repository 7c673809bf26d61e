import iconv from 'iconv-lite';

/**
 * Windows-1252 text for a CSV an "import paramétrable" reads. iconv-lite
 * writes `?` for what the code page lacks, so the text is transliterated
 * first: letters lose their accents through NFD (`Ễ` → `E`, `ř` → `r`),
 * typographic signs the page lacks take their plain form, and only what has
 * no such form (emoji) becomes `?`. Unlike the FEC text, tabs and line breaks
 * are kept: CSV quoting carries them.
 */

/** Every character Windows-1252 has: ASCII, latin-1 from U+00A0, and its own 0x80–0x9F (€, Œ, “…). */
const ENCODABLE: ReadonlySet<string> = (() => {
  const set = new Set<string>();
  for (let c = 0; c < 0x80; c++) set.add(String.fromCharCode(c));
  for (let c = 0xa0; c <= 0xff; c++) set.add(String.fromCharCode(c));
  for (let b = 0x80; b <= 0x9f; b++) {
    const ch = iconv.decode(Buffer.from([b]), 'windows-1252');
    if (ch !== '\ufffd' && ch.codePointAt(0)! > 0xff) set.add(ch);
  }
  return set;
})();

/** Signs Windows-1252 lacks, and their closest plain form. */
const PLAIN_FORMS: ReadonlyMap<string, string> = new Map([
  ['\u2010', '-'], ['\u2011', '-'], ['\u2012', '-'], ['\u2212', '-'], ['\u2032', "'"], ['\u2033', '"'], ['\u201b', "'"],
  ['\u202f', ' '], ['\u2009', ' '], ['\u2002', ' '], ['\u2003', ' '], ['\u2007', ' '],
  ['\u0131', 'i'], ['\u0141', 'L'], ['\u0142', 'l'], ['\u0110', 'D'], ['\u0111', 'd'], ['\u1e9e', 'SS'], ['\u00df', 'ss'],
]);
const COMBINING = /\p{M}/gu;
const FORMAT_CHAR = /^\p{Cf}$/u;
/** Printable ASCII, tab, CR, LF and latin-1 letters: nothing to do (the common case). */
const PLAIN = /^[\t\n\r\x20-\x7e\xa0-\xff]*$/;

function transliterate(ch: string): string {
  if (ENCODABLE.has(ch)) return ch;
  const plain = PLAIN_FORMS.get(ch);
  if (plain !== undefined) return plain;
  if (FORMAT_CHAR.test(ch)) return ''; // zero-width joiners, marks of direction
  const stripped = ch.normalize('NFD').replace(COMBINING, '');
  if (stripped === '') return '';
  if (stripped !== ch) {
    let out = '';
    for (const c of stripped) {
      const t = transliterate(c);
      if (t === '?') return '?';
      out += t;
    }
    return out;
  }
  return '?';
}

/** Text holding only characters Windows-1252 has (see the file's comment). */
export function toWindows1252Text(value: string): string {
  if (PLAIN.test(value)) return value;
  let out = '';
  // NFC first: a decomposed `é` (e + U+0301) is a character the page has.
  for (const ch of value.normalize('NFC')) out += transliterate(ch);
  return out;
}

/** Any text → Windows-1252 bytes, transliterated first. */
export function windows1252Bytes(text: string): Buffer {
  return iconv.encode(toWindows1252Text(text), 'windows-1252');
}
