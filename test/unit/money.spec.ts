/** Money arithmetic on integer cents (src/money.ts): exact where floats drift. */
import { formatCents, sumMoney, toCents } from '../../src/money';

describe('toCents', () => {
  it.each([
    ['-500.50', -50050n],
    ['0.05', 5n],
    ['0.5', 50n],
    ['12', 1200n],
    ['-0.01', -1n],
    ['0', 0n],
    ['0.00', 0n],
    ['1234567890.99', 123456789099n],
    ['-9999999999.99', -999999999999n],
    // far beyond Number.MAX_SAFE_INTEGER cents: still exact
    ['123456789012345678901234.56', 12345678901234567890123456n],
    [' 42.10 ', 4210n],
  ])('%j → %s cents', (input, cents) => {
    expect(toCents(input)).toBe(cents);
  });

  it.each(['1.234', 'abc', '1e3', '', '-', '.5', '5.', '1,50', '--1', '+1', '1.2.3', 'NaN', 'Infinity', '0x10', '1 000'])('rejects %j', (input) => {
    expect(() => toCents(input)).toThrow(/Not a money amount/);
  });
});

describe('formatCents', () => {
  it.each([
    [-50050n, '-500.50'],
    [5n, '0.05'],
    [1200n, '12.00'],
    [-1n, '-0.01'],
    [0n, '0.00'],
    [-0n, '0.00'],
    [100n, '1.00'],
    [12345678901234567890123456n, '123456789012345678901234.56'],
  ])('%s cents → %j', (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });

  it('round-trips every amount of two decimals', () => {
    for (const s of ['-500.50', '0.05', '12.00', '-0.01', '999999999999.99', '-1.10', '1000.00']) {
      expect(formatCents(toCents(s))).toBe(s);
    }
  });
});

describe('sumMoney', () => {
  it('sums exactly where floats drift: 0.10 ten thousand times is 1000.00', () => {
    const values = Array.from({ length: 10_000 }, () => '0.10');
    // The float sum is not 1000 — that is the point of the module.
    expect(values.reduce((a, v) => a + Number(v), 0)).not.toBe(1000);
    expect(sumMoney(values)).toBe('1000.00');
  });

  it('0.1 + 0.2 is 0.30', () => {
    expect(sumMoney(['0.1', '0.2'])).toBe('0.30');
  });

  it('mixes invoices and credit notes', () => {
    expect(sumMoney(['1000.00', '-500.50', '0.50', '-0.01'])).toBe('499.99');
    expect(sumMoney(['500.50', '-500.50'])).toBe('0.00');
    expect(sumMoney(['-0.01', '-0.02'])).toBe('-0.03');
  });

  it('is 0.00 for nothing and accepts any iterable', () => {
    expect(sumMoney([])).toBe('0.00');
    function* gen() {
      yield '1.01';
      yield '2.02';
    }
    expect(sumMoney(gen())).toBe('3.03');
  });

  it('stays exact on big totals', () => {
    const values = Array.from({ length: 1000 }, () => '9999999999.99');
    expect(sumMoney(values)).toBe('9999999999990.00');
  });

  it('refuses a malformed value instead of guessing', () => {
    expect(() => sumMoney(['1.00', '1.234'])).toThrow(/Not a money amount/);
  });
});
