/**
 * Reading an importer layout file back (docs/accounting.md, "Importer
 * layouts"): a reader per format decodes it with the format's code page,
 * checks CR LF and every fixed record's length, and rebuilds the lines
 * (account, side, cents, piece, date), grouped into entries as the program
 * groups them. Used by the tests and by the demo, which checks an importer
 * file against the FEC of the same selection.
 */
import { fromBytes } from '../../src/accounting/layouts/text';
import { ExportFormat } from '../../src/entities/enums';
import { toCents } from '../../src/money';

/** One line read back from a file. */
export interface ReadLine {
  /** What groups lines into an entry in that format. */
  entry: string;
  account: string;
  side: 'D' | 'C';
  cents: bigint;
  piece: string;
  /** `yyyymmdd` */
  date: string;
}

export interface ReadFile {
  lines: ReadLine[];
  /** QUADRA: the CompAuxNum of each C record. */
  customers: string[];
  /** Every record (line) as decoded text, without CR LF. */
  records: string[];
}

/** Splits on CR LF; every line ends with one, no lone CR or LF, no empty line. */
function records(text: string): string[] {
  if (!text.endsWith('\r\n')) throw new Error('The file does not end with CR LF');
  const out = text.slice(0, -2).split('\r\n');
  for (const r of out) {
    if (r.includes('\r') || r.includes('\n')) throw new Error(`A lone CR or LF in ${JSON.stringify(r)}`);
    if (r === '') throw new Error('An empty line');
  }
  return out;
}

const field = (r: string, pos: number, len: number) => r.slice(pos - 1, pos - 1 + len);
const cents = (amount: string) => toCents(amount.trim().replace(',', '.'));
const yyyymmdd = (ddmmyyyy: string) => ddmmyyyy.slice(4, 8) + ddmmyyyy.slice(2, 4) + ddmmyyyy.slice(0, 2);

/** A test-only reader per format: decodes with the format's code page, checks record lengths, rebuilds the lines. */
export function readLayoutFile(format: ExportFormat, bytes: Buffer): ReadFile {
  const lines: ReadLine[] = [];
  const customers: string[] = [];
  switch (format) {
    case ExportFormat.QUADRA: {
      if (bytes.some((b) => b > 0x7f)) throw new Error('A non-ASCII byte in a Quadra file');
      const recs = records(fromBytes(bytes, 'ascii'));
      for (const r of recs) {
        if (r[0] === 'C') {
          if (r.length !== 453) throw new Error(`C record of ${r.length} bytes`);
          customers.push(field(r, 2, 8).trim());
          continue;
        }
        if (r[0] !== 'M' || r.length !== 231) throw new Error(`M record of ${r.length} bytes: ${r.slice(0, 20)}`);
        const d = field(r, 15, 6);
        lines.push({
          entry: field(r, 100, 8).trim(), account: field(r, 2, 8).trim(), side: field(r, 42, 1) as 'D' | 'C',
          cents: BigInt(field(r, 44, 12)), piece: field(r, 149, 10).trim(), date: `20${d.slice(4, 6)}${d.slice(2, 4)}${d.slice(0, 2)}`,
        });
      }
      return { lines, customers, records: recs };
    }
    case ExportFormat.XIMPORT: {
      const recs = records(fromBytes(bytes, 'windows1252'));
      for (const r of recs) {
        if (r.length !== 142) throw new Error(`XIMPORT record of ${r.length} bytes`);
        lines.push({
          entry: field(r, 1, 5).trim(), account: field(r, 36, 11).trim(), side: field(r, 85, 1) as 'D' | 'C',
          cents: cents(field(r, 72, 13)), piece: field(r, 24, 12).trim(), date: field(r, 8, 8),
        });
      }
      return { lines, customers, records: recs };
    }
    case ExportFormat.EBP: {
      const recs = records(fromBytes(bytes, 'windows1252'));
      for (const r of recs) {
        // 1,date,journal,account,,"label","piece",amount,side,due,
        const m = /^(\d+),(\d{8}),([^,"]*),([^,"]*),,"([^"]*)","([^"]*)",(\d+\.\d{2}),([DC]),(\d{8}),$/.exec(r);
        if (!m) throw new Error(`Not an EBP record: ${r}`);
        lines.push({ entry: m[6], account: m[4], side: m[8] as 'D' | 'C', cents: cents(m[7]), piece: m[6], date: yyyymmdd(m[2]) });
      }
      return { lines, customers, records: recs };
    }
    case ExportFormat.CEGID: {
      const recs = records(fromBytes(bytes, 'windows1252'));
      for (const r of recs) {
        const f = r.split(';');
        if (f.length !== 8 || !/^\d+,\d{2}$/.test(f[5])) throw new Error(`Not a Cegid record: ${r}`);
        lines.push({ entry: f[7], account: f[3] || f[2], side: f[4] as 'D' | 'C', cents: cents(f[5]), piece: f[7], date: yyyymmdd(f[0]) });
      }
      return { lines, customers, records: recs };
    }
    case ExportFormat.SAGE100: {
      if (!bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))) throw new Error('No UTF-8 BOM');
      const recs = records(bytes.subarray(3).toString('utf8'));
      for (const r of recs) {
        const f = r.split('\t');
        if (f.length !== 11 || f[0] !== 'G') throw new Error(`Not a Sage 100 record: ${r}`);
        const debit = cents(f[9]);
        const credit = cents(f[10]);
        if ((debit === 0n) === (credit === 0n)) throw new Error(`Exactly one of debit and credit must be non-zero: ${r}`);
        const d = f[2];
        lines.push({
          entry: `${f[1]}|${d}|${f[3]}`, account: f[5] || f[4], side: debit ? 'D' : 'C', cents: debit || credit, piece: f[3],
          date: `20${d.slice(4, 6)}${d.slice(2, 4)}${d.slice(0, 2)}`,
        });
      }
      return { lines, customers, records: recs };
    }
    default:
      throw new Error(`No reader for ${format}`);
  }
}

/** Entries, lines and totals of lines read back; throws if an entry does not balance. */
export function balanceOf(lines: readonly ReadLine[]): { entries: number; lines: number; debit: bigint; credit: bigint } {
  const byEntry = new Map<string, bigint>();
  let debit = 0n;
  let credit = 0n;
  for (const l of lines) {
    const signed = l.side === 'D' ? l.cents : -l.cents;
    byEntry.set(l.entry, (byEntry.get(l.entry) ?? 0n) + signed);
    if (l.side === 'D') debit += l.cents;
    else credit += l.cents;
  }
  for (const [entry, sum] of byEntry) if (sum !== 0n) throw new Error(`Entry ${entry} does not balance (${sum})`);
  return { entries: byEntry.size, lines: lines.length, debit, credit };
}
