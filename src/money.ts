/**
 * Money is a decimal string in the database and on the wire ("-500.50").
 * Arithmetic happens on integer cents as BigInt, never on JS floats.
 */
const MONEY_RE = /^(-)?(\d+)(?:\.(\d{1,2}))?$/;

export function toCents(value: string): bigint {
  const m = MONEY_RE.exec(value.trim());
  if (!m) throw new Error(`Not a money amount: ${JSON.stringify(value)}`);
  const cents = BigInt(m[2]) * 100n + BigInt((m[3] ?? '').padEnd(2, '0'));
  return m[1] ? -cents : cents;
}

/** Cents → "-500.50" (point, two decimals, no grouping). */
export function formatCents(cents: bigint): string {
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  const units = abs / 100n;
  const rest = (abs % 100n).toString().padStart(2, '0');
  return `${neg ? '-' : ''}${units}.${rest}`;
}

export function sumMoney(values: Iterable<string>): string {
  let total = 0n;
  for (const v of values) total += toCents(v);
  return formatCents(total);
}
