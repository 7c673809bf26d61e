/**
 * The importer layouts (docs/accounting.md) byte for byte: the worked
 * examples of the contract (SHA-256 of each file), the text pipeline, the
 * golden files of a selection full of edge cases, their read-back, and
 * every refusal.
 */
import { createHash } from 'node:crypto';
import type { AccountingSourceRow } from '../../src/accounting/entries';
import { DEFAULT_ACCOUNTING_SETTINGS, type AccountingSettingsData } from '../../src/accounting/settings';
import { labelBytes } from '../../src/accounting/layouts/text';
import { quadraKey } from '../../src/accounting/layouts/quadra';
import { ExportFormat, InvoiceType } from '../../src/entities/enums';
import { writeLayoutFile } from '../helpers/layouts';

const settings = (over: Partial<AccountingSettingsData> = {}): AccountingSettingsData => ({
  ...DEFAULT_ACCOUNTING_SETTINGS, vatAccounts: { ...DEFAULT_ACCOUNTING_SETTINGS.vatAccounts }, accountLabels: {}, ...over,
});

/** The contract's worked example: F163881, 2019-01-25, BUSSON Marie (39801), 500.00 € without VAT. */
const workedExample: AccountingSourceRow[] = [{
  invoiceId: '00000000-0000-4000-8000-000000000001', type: InvoiceType.INVOICE, number: 'F163881', billingDate: '2019-01-25',
  amountDue: '500.00', payerLastName: 'BUSSON', payerFirstName: 'Marie', customerIdentifier: '39801',
  position: 1, label: 'Facture F163881 BUSSON Marie', amount: '500.00', vatRate: '0.00', accountingAccount: null, analyticCode: null,
}];

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
