/**
 * The importer layouts (docs/accounting.md) byte for byte: the worked
 * examples of the contract (SHA-256 of each file), the text pipeline, the
 * golden files of a selection full of edge cases, their read-back, and
 * every refusal.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { AccountingEntryLine, FirstSourceRow } from '../../src/accounting/entries';
import { LayoutChecks } from '../../src/accounting/layouts/common';
import { blank, fixed, FixedLayout, slot } from '../../src/accounting/layouts/records';
import { AccountingEntriesWriter } from '../../src/exports/kinds/accounting-entries-writer';
import { importLayout } from '../../src/accounting/layouts';
import { LayoutFileWriter } from '../../src/exports/writers/layout';
import { DEFAULT_ACCOUNTING_SETTINGS, type AccountingSettingsData } from '../../src/accounting/settings';
import { forbiddenAscii, labelBytes } from '../../src/accounting/layouts/text';
import { quadraKey } from '../../src/accounting/layouts/quadra';
import { ExportFormat, InvoiceType } from '../../src/entities/enums';
import {
  GOLDEN_DOCUMENTS, LAYOUT_FORMATS, balanceOf, fecBalance, goldenRows, goldenSettings, readLayoutFile, writeFecFile, writeLayoutFile,
} from '../helpers/layouts';

const goldenPath = (format: ExportFormat) => path.join(__dirname, `../fixtures/layouts/golden.${format.toLowerCase()}.txt`);

const settings = (over: Partial<AccountingSettingsData> = {}): AccountingSettingsData => ({
  ...DEFAULT_ACCOUNTING_SETTINGS, vatAccounts: { ...DEFAULT_ACCOUNTING_SETTINGS.vatAccounts }, accountLabels: {}, ...over,
});

/** The contract's worked example: F163881, 2019-01-25, BUSSON Marie (39801), 500.00 € without VAT. */
const workedExample: FirstSourceRow[] = [{
  invoiceId: '00000000-0000-4000-8000-000000000001', type: InvoiceType.INVOICE, number: 'F163881', billingDate: '2019-01-25',
  amountDue: '500.00', payerLastName: 'BUSSON', payerFirstName: 'Marie', customerIdentifier: '39801',
  position: 1, label: 'Facture F163881 BUSSON Marie', amount: '500.00', vatRate: '0.00', accountingAccount: null, analyticCode: null,
}];

/** Writes into `output` (the refusal tests look at what reached it). */
async function writeLayoutFileTo(format: ExportFormat, docs: FirstSourceRow[][], s: AccountingSettingsData, output: PassThrough) {
  const writer = new LayoutFileWriter(importLayout(format)!, { settings: s }, output);
  const entries = new AccountingEntriesWriter(writer, { settings: s, validDate: '2026-12-02' }, { payersWithoutIdentifier: 0, alreadyTransferred: 0 });
  for (const rows of docs) for (const r of rows) await entries.writeRow(r);
  // Every document of these tests is the worked example's 500.00.
  await entries.finish({ tenantName: 't', requestedBy: 'u', requestedAt: new Date(), generatedAt: new Date(), selection: '', invoiceCount: docs.length, creditNoteCount: 0, rowCount: 0, totalDue: `${500 * docs.length}.00`, totalPaid: '0', totalRemaining: '0' });
}

/** The checks alone (no output), as the pre-flight runs them. */
async function checkOnly(format: ExportFormat, docs: FirstSourceRow[][], s: AccountingSettingsData) {
  const writer = new LayoutFileWriter(importLayout(format)!, { settings: s }, null);
  const entries = new AccountingEntriesWriter(writer, { settings: s, validDate: '2026-12-02' }, { payersWithoutIdentifier: 0, alreadyTransferred: 0 });
  for (const rows of docs) for (const r of rows) await entries.writeRow(r);
  await entries.endOfRows();
  return { writer };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the worked examples of the contract', () => {
  it.each([
    [ExportFormat.QUADRA, 921, '27c259c1a6a46ee84291a701701d98eb6dcef5d1fce376a4d3c5f1b278c33c67'],
    [ExportFormat.XIMPORT, 288, '1f5b7e30710f95147c2fb51f913f987f47eb7b8d1d9e2a8ca5f45a596f1b73d8'],
    [ExportFormat.EBP, 165, 'd336db32083a8c06a5a98c7f9d3a630ffd39594fd6f9d50763746aad524b1536'],
    [ExportFormat.CEGID, 139, 'ff9f5e353c1a1af1bed975aa8536d158ec83b08983e247d71f741d75a78f5d6e'],
    [ExportFormat.SAGE100, 152, '83231e4425f17e22f44641fc5760ca6e7959ea737ce4c8f8df07a288ea584be2'],
  ])('%s: %d bytes, SHA-256 %s', async (format, size, hash) => {
    const { bytes } = await writeLayoutFile(format, [workedExample], settings());
    expect(bytes.length).toBe(size);
    expect(sha256(bytes)).toBe(hash);
  });

  it('XIMPORT shortens the 28-byte label to 25 and says so; the others have nothing to say', async () => {
    const { writer } = await writeLayoutFile(ExportFormat.XIMPORT, [workedExample], settings());
    expect(writer.warnings()).toEqual([{ rule: 'LABEL_SHORTENED', field: 'EcritureLib', width: 25, count: 1, documents: ['F163881'] }]);
    for (const format of [ExportFormat.QUADRA, ExportFormat.EBP, ExportFormat.CEGID, ExportFormat.SAGE100]) {
      expect((await writeLayoutFile(format, [workedExample], settings())).writer.warnings()).toEqual([]);
    }
  });
});

describe('the text pipeline', () => {
  it('transliterates what ASCII lacks, keeps what Windows-1252 has', () => {
    expect(labelBytes('Cœur d’Alène – « été »…', { codePage: 'ascii' }).bytes).toBe(`Coeur d'Alene - " ete "...`);
    expect(Buffer.from(labelBytes('Cœur d’Alène – « été »…', { codePage: 'windows1252' }).bytes, 'latin1').toString('hex'))
      .toBe('43 9C 75 72 20 64 92 41 6C E8 6E 65 20 96 20 AB 20 E9 74 E9 20 BB 85'.replace(/ /g, '').toLowerCase());
    expect(labelBytes('Łódź 2€', { codePage: 'ascii' }).bytes).toBe('?odz 2EUR');
    expect(Buffer.from(labelBytes('Łódź 2€', { codePage: 'windows1252' }).bytes, 'latin1').toString('hex')).toBe('3ff3647a203280');
    expect(labelBytes('  BUSSON\tMarie\r\n ', { codePage: 'windows1252' }).bytes).toBe('BUSSON Marie');
  });

  it("Quadra's alphabetical key", () => {
    expect(quadraKey("D'Almeida-Léon")).toBe('DALMEID');
    expect(quadraKey('Busson')).toBe('BUSSON');
  });
});

describe.each(LAYOUT_FORMATS)('%s on the golden selection', (format) => {
  it('has exactly the bytes of its golden file (code page, CR LF and BOM included)', async () => {
    const { bytes } = await writeLayoutFile(format, goldenRows(), goldenSettings());
    if (process.env.UPDATE_GOLDEN) writeFileSync(goldenPath(format), bytes); // UPDATE_GOLDEN=1 npx jest test/unit/import-layouts.spec.ts, then review the diff
    expect(bytes.equals(readFileSync(goldenPath(format)))).toBe(true);
  });

  it('reads back: every entry balanced, entries, lines and totals those of the FEC of the same selection', async () => {
    const { bytes } = await writeLayoutFile(format, goldenRows(), goldenSettings());
    const read = readLayoutFile(format, bytes);
    const fec = fecBalance(await writeFecFile(goldenRows(), goldenSettings()));
    expect(balanceOf(read.lines)).toEqual(fec);
    expect(fec.entries).toBe(GOLDEN_DOCUMENTS.length);
    // Same dates and pieces, in the same order as the FEC.
    expect([...new Set(read.lines.map((l) => l.piece))]).toEqual(GOLDEN_DOCUMENTS.map((d) => d.number));
    expect([...new Set(read.lines.map((l) => l.date))]).toEqual([...new Set(GOLDEN_DOCUMENTS.map((d) => d.billingDate.replace(/-/g, '')))]);
    // The receivable line carries the customer account, or the fallback for the payer without identifier.
    expect(read.lines.filter((l) => ['39801', '000417', 'C518', 'DIVERS'].includes(l.account)).length).toBe(GOLDEN_DOCUMENTS.length);
    if (format === ExportFormat.QUADRA) expect(read.customers).toEqual(['39801', 'C518', '000417']); // once each, not DIVERS
  });
});

describe('what the golden files hold', () => {
  const text = async (format: ExportFormat) => (await writeLayoutFile(format, goldenRows(), goldenSettings())).bytes;

  it('QUADRA: pure ASCII, transliterated; the C record of a payer with accents and ligatures', async () => {
    const file = (await text(ExportFormat.QUADRA)).toString('latin1');
    expect(file).toContain(`Coeur d'Alene - " ete "... ?odz 2EUR`.slice(0, 30));
    expect(file).toContain('C000417  D\'ALMEIDA-LEON Zoe " OE "     DALMEID');
    expect(file).toContain('NGUYEN Thao ?');
  });

  it('EBP: " becomes \' inside the quoted label, commas kept there', async () => {
    const file = (await text(ExportFormat.EBP)).toString('latin1');
    expect(file).toContain(`,"Location violon 3/4, 'Stentor'","F000103",`);
    expect(file).toContain(`"Cours de piano 'débutant'; 30 min hebdom"`); // 40 bytes
    // Windows-1252 keeps œ ’ – … € (0x9C 0x92 0x96 0x85 0x80); Ł has no byte there.
    expect(file).toContain('C\x9cur d\x92Alène \x96 « été »\x85 ?ódz 2\x80');
  });

  it('CEGID: ; becomes , in labels', async () => {
    const file = (await text(ExportFormat.CEGID)).toString('latin1');
    expect(file).toContain(`;Cours de piano "débutant", 30 min hebdomadaire;F163881\r\n`);
  });

  it('SAGE100: UTF-8 kept (emoji too), 69 characters at most, 10 TABs a line', async () => {
    const file = await text(ExportFormat.SAGE100);
    const lines = file.subarray(3).toString('utf8').split('\r\n').slice(0, -1);
    expect(lines.every((l) => l.split('\t').length === 11)).toBe(true);
    expect(file.toString('utf8')).toContain('Adhésion annuelle Œuvre 🎶');
    expect(Math.max(...lines.map((l) => l.split('\t')[6].length))).toBe(69);
  });

  it('XIMPORT with ximportDecimalComma writes 500,00-style amounts, still right-aligned', async () => {
    const { bytes } = await writeLayoutFile(ExportFormat.XIMPORT, goldenRows(), goldenSettings({ ximportDecimalComma: true }));
    const first = bytes.toString('latin1').split('\r\n')[0];
    expect(first.slice(71, 84)).toBe('       346.66'.replace('.', ','));
  });

  it('QUADRA: a 3-character journal leaves pos 10 blank and fills 111; quadraUpdateExistingAccounts false blanks pos 217', async () => {
    const { bytes } = await writeLayoutFile(ExportFormat.QUADRA, goldenRows(), goldenSettings({ journalCode: 'VTE', quadraUpdateExistingAccounts: false }));
    const recs = bytes.toString('latin1').split('\r\n').slice(0, -1);
    const m = recs.find((r) => r[0] === 'M')!;
    expect(m.slice(9, 11)).toBe('  ');
    expect(m.slice(110, 113)).toBe('VTE');
    expect(recs.find((r) => r[0] === 'C')!.slice(216, 218)).toBe(' C');
  });

  it('labels cut are counted per field and width, documents in export order', async () => {
    const { writer } = await writeLayoutFile(ExportFormat.XIMPORT, goldenRows(), goldenSettings());
    expect(writer.warnings()).toEqual([
      { rule: 'LABEL_SHORTENED', field: 'EcritureLib', width: 25, count: 5, documents: ['F163881', 'A000001', 'F000102', 'F000103', 'F000104'] },
    ]);
    const quadra = await writeLayoutFile(ExportFormat.QUADRA, goldenRows(), goldenSettings());
    expect(quadra.writer.warnings()).toEqual([{ rule: 'LABEL_SHORTENED', field: 'EcritureLib', width: 30, count: 2, documents: ['F163881', 'F000103'] }]);
  });
});

describe('identifiers are refused, never cut nor changed', () => {
  const one = (over: Partial<FirstSourceRow>, n = 1): FirstSourceRow[][] =>
    // Distinct document numbers of the same length (the last character is the document's index).
    Array.from({ length: n }, (_, i) => [{
      ...workedExample[0], invoiceId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, ...over,
      number: over.number ? `${over.number.slice(0, -1)}${String.fromCharCode(65 + i)}` : `F${i + 1}`,
    }]);

  async function refusal(format: ExportFormat, docs: FirstSourceRow[][], s = settings()) {
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (c: Buffer) => chunks.push(c));
    const err = await writeLayoutFileTo(format, docs, s, output).then(() => null, (e: unknown) => e as { code: string; message: string });
    return { err, written: Buffer.concat(chunks) };
  }

  it.each([
    [ExportFormat.QUADRA, { customerIdentifier: 'CLI123456' }, {}, 'AUXILIARY_TOO_LONG', 'CompAuxNum', 8],
    [ExportFormat.XIMPORT, { customerIdentifier: 'CLIENT12345X' }, {}, 'AUXILIARY_TOO_LONG', 'CompAuxNum', 11],
    [ExportFormat.EBP, { customerIdentifier: 'C'.repeat(16) }, {}, 'AUXILIARY_TOO_LONG', 'CompAuxNum', 15],
    [ExportFormat.QUADRA, { accountingAccount: '706100001' }, {}, 'ACCOUNT_TOO_LONG', 'CompteNum', 8],
    [ExportFormat.XIMPORT, { accountingAccount: '706100000001' }, {}, 'ACCOUNT_TOO_LONG', 'CompteNum', 11],
    [ExportFormat.EBP, { accountingAccount: '7061000000000001' }, {}, 'ACCOUNT_TOO_LONG', 'CompteNum', 15],
    [ExportFormat.QUADRA, { number: 'F123456789X' }, {}, 'PIECE_REF_TOO_LONG', 'PieceRef', 10],
    [ExportFormat.XIMPORT, { number: 'F1234567890XY' }, {}, 'PIECE_REF_TOO_LONG', 'PieceRef', 12],
    [ExportFormat.EBP, { number: 'F'.repeat(16) }, {}, 'PIECE_REF_TOO_LONG', 'PieceRef', 15],
    [ExportFormat.SAGE100, { number: 'FACTURE-00001' + 'é' }, {}, 'PIECE_REF_TOO_LONG', 'PieceRef', 13],
    [ExportFormat.QUADRA, {}, { journalCode: 'VTES' }, 'JOURNAL_CODE_TOO_LONG', 'JournalCode', 3],
    [ExportFormat.XIMPORT, {}, { journalCode: 'VTE' }, 'JOURNAL_CODE_TOO_LONG', 'JournalCode', 2],
    [ExportFormat.EBP, {}, { journalCode: 'VENTE' }, 'JOURNAL_CODE_TOO_LONG', 'JournalCode', 4],
    [ExportFormat.QUADRA, { customerIdentifier: 'CLIÉ' }, {}, 'IDENTIFIER_NOT_ENCODABLE', 'CompAuxNum', null],
    [ExportFormat.XIMPORT, { customerIdentifier: 'ŁUK' }, {}, 'IDENTIFIER_NOT_ENCODABLE', 'CompAuxNum', null],
    [ExportFormat.EBP, { customerIdentifier: 'C,18' }, {}, 'IDENTIFIER_NOT_ENCODABLE', 'CompAuxNum', null],
    [ExportFormat.EBP, { number: 'F"1' }, {}, 'IDENTIFIER_NOT_ENCODABLE', 'PieceRef', null],
    [ExportFormat.CEGID, { number: 'F;1' }, {}, 'IDENTIFIER_NOT_ENCODABLE', 'PieceRef', null],
    [ExportFormat.CEGID, { customerIdentifier: 'Ł1' }, {}, 'IDENTIFIER_NOT_ENCODABLE', 'CompAuxNum', null],
    [ExportFormat.SAGE100, { customerIdentifier: 'C\t1' }, {}, 'IDENTIFIER_NOT_ENCODABLE', 'CompAuxNum', null],
  ] as const)('%s: %j %j → %s (%s, %s)', async (format, over, settingsOver, rule, field, width) => {
    const docs = one(over as Partial<FirstSourceRow>, 3);
    const { err, written } = await refusal(format, docs, settings(settingsOver as Partial<AccountingSettingsData>));
    expect(err).toMatchObject({ code: rule });
    expect(err!.message).toContain(`${rule} : ${field}`);
    expect(written.length).toBe(0); // nothing reached the file
    const { writer } = await checkOnly(format, docs, settings(settingsOver as Partial<AccountingSettingsData>));
    expect(writer.problems()).toEqual([{ rule, field, width, count: 3, documents: docs.map((d) => d[0].number) }]);
  });

  it('ENTRY_NUMBER_TOO_LONG: XIMPORT numbers entries on 5 digits', async () => {
    const docs = one({}, 100_000 + 2).map((rows, i) => rows.map((r) => ({ ...r, number: `F${i + 1}`, label: null })));
    const { writer } = await checkOnly(ExportFormat.XIMPORT, docs, settings());
    expect(writer.problems()).toEqual([{ rule: 'ENTRY_NUMBER_TOO_LONG', field: 'EcritureNum', width: 5, count: 3, documents: ['F100000', 'F100001', 'F100002'] }]);
  });

  it('lists at most 20 documents, with the count of all', async () => {
    const docs = one({ customerIdentifier: 'CLI123456' }, 25);
    const { writer } = await checkOnly(ExportFormat.QUADRA, docs, settings());
    const [p] = writer.problems();
    expect(p.count).toBe(25);
    expect(p.documents).toEqual(docs.slice(0, 20).map((d) => d[0].number));
  });
});

describe("each layout's identifiers, as the request-time check reads them, are what its line writer checks", () => {
  // Every identifier holds a control character (refused by every layout) and the entry number has 10 digits.
  const line = (over: Partial<AccountingEntryLine>): AccountingEntryLine => ({
    JournalCode: 'J\u0001', JournalLib: 'Ventes', EcritureNum: 1_000_000_000, EcritureDate: '2025-01-10', CompteNum: 'R\u0001', CompteLib: 'Clients',
    CompAuxNum: 'A\u0001', CompAuxLib: 'BUSSON Marie', PieceRef: 'P\u0001', PieceDate: '2025-01-10', EcritureLib: 'Facture', Debit: '10.00', Credit: '0.00',
    EcritureLet: null, DateLet: null, ValidDate: '2025-01-11', Montantdevise: null, Idevise: null, CodeAnalytique: null, payerLastName: 'BUSSON', signedCents: 1000n, ...over,
  });
  const fieldsChecked = (format: ExportFormat, lines: AccountingEntryLine[]) => {
    const layout = importLayout(format)!;
    const checks = new LayoutChecks(layout.measureChars);
    const write = layout.lineWriter(checks, { settings: settings() });
    const seen: string[] = [];
    for (const l of lines) {
      const before = new Set(checks.problems.list().map((p) => `${p.field}`));
      write(l);
      seen.push(checks.problems.list().map((p) => `${p.field}`).filter((f) => !before.has(f)).join(','));
    }
    return seen;
  };

  it.each(LAYOUT_FORMATS)('%s: the receivable line checks receivableLine in its order; the other lines the same with their CompteNum and no CompAuxNum', (format) => {
    const ids = importLayout(format)!.identifiers;
    const field = { JournalCode: 'JournalCode', PieceRef: 'PieceRef', EcritureNum: 'EcritureNum', Account: 'CompAuxNum', CompteNum: 'CompteNum', CompAuxNum: 'CompAuxNum', CustomerRecord: 'CompteNum' } as const;
    const receivable = ids.receivableLine.map((c) => field[c]);
    const other = ids.receivableLine.flatMap((c) => (c === 'CompAuxNum' || c === 'CustomerRecord' ? [] : c === 'Account' ? ['CompteNum'] : [field[c]]));
    expect(ids.receivableLine.includes('EcritureNum')).toBe(ids.entryNumberDigits !== null);
    const [first, revenue] = fieldsChecked(format, [line({}), line({ CompAuxNum: null, CompAuxLib: null, CompteNum: 'C\u0001' })]);
    expect(first).toBe(receivable.join(','));
    // Problems are listed once per field, so the second line shows only what the first did not already have.
    expect(other).toContain('CompteNum');
    expect(fieldsChecked(format, [line({ CompAuxNum: null, CompAuxLib: null, CompteNum: 'C\u0001' })])[0]).toBe(other.join(','));
    expect(revenue).toBe(receivable.includes('CompteNum') ? '' : 'CompteNum');
  });

  it('QUADRA checks the receivable account in the customer record only: once per customer identifier, never for the fallback account', () => {
    expect(fieldsChecked(ExportFormat.QUADRA, [line({ JournalCode: 'VT', PieceRef: 'F1', EcritureNum: 1 })])).toEqual(['CompAuxNum,CompteNum']);
    expect(fieldsChecked(ExportFormat.QUADRA, [line({ JournalCode: 'VT', PieceRef: 'F1', EcritureNum: 1, CompAuxNum: 'DIVERS' })])).toEqual(['']);
    const twice = fieldsChecked(ExportFormat.QUADRA, [line({ JournalCode: 'VT', PieceRef: 'F1', EcritureNum: 1, CompAuxNum: 'C1' }), line({ JournalCode: 'VT', PieceRef: 'F2', EcritureNum: 2, CompAuxNum: 'C1' })]);
    expect(twice).toEqual(['CompteNum', '']);
  });

  it("forbidden characters are character classes: the request-time check's list of them is exact", () => {
    for (const format of LAYOUT_FORMATS) {
      const ids = importLayout(format)!.identifiers;
      for (const f of ['JournalCode', 'PieceRef', 'CompteNum', 'CompAuxNum'] as const) {
        const forbidden = ids[f].rules.forbidden;
        if (!forbidden) continue;
        expect(forbidden.flags).toBe('');
        // One literal character, or a class of literal ones.
        expect(forbidden.source).toMatch(/^(?:[^\\[\](){}.*+?^$|]|\[[^\\\]^-]+\])$/);
      }
    }
    expect(forbiddenAscii(importLayout(ExportFormat.EBP)!.identifiers.CompAuxNum.rules)).toBe('",');
    expect(forbiddenAscii(importLayout(ExportFormat.CEGID)!.identifiers.PieceRef.rules)).toBe(';');
  });
});

describe('the fixed-width record builder', () => {
  const layout = () => new FixedLayout('T', 12, [fixed(1, 1, 'M'), slot(2, 4, 'code'), blank(6, 2), slot(8, 3, 'n', 'right'), fixed(11, 2, 'X')]);

  it('pads each slot and keeps the constants in place', () => {
    expect(layout().build(['AB', '7'])).toBe('MAB      7X ');
    expect(layout().build(['ABCD', '123'])).toBe('MABCD  123X ');
    expect(layout().slotNames).toEqual(['code', 'n']);
  });

  it('refuses a value longer than its slot, and a wrong number of values', () => {
    expect(() => layout().build(['ABCDE', '1'])).toThrow('T record: 5 bytes for code do not fit 4');
    expect(() => layout().build(['A'])).toThrow('T record: 1 values for 2 slots');
  });

  it('refuses a layout with a gap or an overlap, a wrong length, or a constant that does not fit', () => {
    expect(() => new FixedLayout('T', 5, [slot(1, 2, 'a'), slot(4, 2, 'b')])).toThrow('T record: field at 4 follows byte 2');
    expect(() => new FixedLayout('T', 5, [slot(1, 3, 'a'), slot(3, 2, 'b')])).toThrow('T record: field at 3 follows byte 3');
    expect(() => new FixedLayout('T', 6, [slot(1, 3, 'a'), slot(4, 2, 'b')])).toThrow('T record is 5 bytes, not 6');
    expect(() => new FixedLayout('T', 2, [fixed(1, 2, 'EUR')])).toThrow('T record: the constant at 1 does not fit 2 bytes');
  });
});
