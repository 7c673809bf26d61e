/**
 * VAT inside billing-line amounts (they include VAT and add up to the
 * invoice's amount_due), in integer cents and hundredths of a percent: no
 * float anywhere.
 */

const RATE_RE = /^(\d{1,3})(?:\.(\d{1,2}))?$/;

/** `"20.00"` / `"5.5"` → 2000 / 550 (hundredths of a percent). */
export function rateHundredths(rate: string): bigint {
  const m = RATE_RE.exec(rate.trim());
  if (!m) throw new Error(`Not a VAT rate: ${JSON.stringify(rate)}`);
  return BigInt(m[1]) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
}

/** 2000 → `"20.00"`: the key of `vat_accounts`, as PostgreSQL prints numeric(5,2). */
export function rateKey(hundredths: bigint): string {
  return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')}`;
}

/** `"20.00"` → `20,00`, as the VAT line's label shows it. */
export const rateLabel = (key: string) => key.replace('.', ',');

/**
 * VAT included in `amountCents` at `rate` (hundredths of a percent):
 * amount × rate / (100 + rate), rounded half-up (away from zero) to the cent.
 * 10.00 at 5.50 % → 0.52; 0.05 at 20 % → 0.01; -10.00 at 5.50 % → -0.52.
 */
export function includedVatCents(amountCents: bigint, rate: bigint): bigint {
  if (rate <= 0n || amountCents === 0n) return 0n;
  const negative = amountCents < 0n;
  const num = (negative ? -amountCents : amountCents) * rate;
  const den = 10000n + rate;
  const rounded = (2n * num + den) / (2n * den);
  return negative ? -rounded : rounded;
}

/**
 * `includedVatCents` in PostgreSQL, for an amount in euros (`numeric(12,2)`)
 * and a rate in percent (`numeric(5,2)`): the same integer arithmetic on
 * cents and hundredths (bigint), so that SQL and TypeScript agree to the cent.
 */
export function includedVatCentsSql(amount: string, rate: string): string {
  const c = `(${amount} * 100)::bigint`;
  const r = `(${rate} * 100)::bigint`;
  return `(CASE WHEN ${r} <= 0 OR ${c} = 0 THEN 0::bigint ELSE sign(${c})::bigint * ((2 * abs(${c}) * ${r} + 10000 + ${r}) / (2 * (10000 + ${r}))) END)`;
}
