import { useEffect, useState } from 'preact/hooks';
import type { AccountingCheck } from './graphql';

/**
 * The result of the pre-flight check in the format dialog of "Exporter les
 * écritures comptables": counts, totals, then the problems (which block
 * the launch) and the warnings, each with its documents.
 */
export type CheckState =
  | { state: 'running' }
  | { state: 'done'; check: AccountingCheck }
  | { state: 'failed'; message: string };

const money = (v: string) => `${v.replace('.', ',')} €`;

function Items({ items }: { items: AccountingCheck['problems'] }) {
  return (
    <ul>
      {items.map((p) => (
        <li key={`${p.rule}-${p.field}-${p.width}`}>
          {p.message}
        </li>
      ))}
    </ul>
  );
}

export function PreflightResult({ result }: { result: CheckState | null }) {
  if (!result) return null;
  if (result.state === 'running') return <p class="preflight" role="status">Vérification des écritures…</p>;
  if (result.state === 'failed') return <p class="preflight error" role="alert">Vérification impossible : {result.message}</p>;
  const c = result.check;
  return (
    <section class="preflight" aria-label="Vérification avant export">
      <p role="status">
        {c.entryCount} écriture{c.entryCount > 1 ? 's' : ''}, {c.lineCount} ligne{c.lineCount > 1 ? 's' : ''} · débit {money(c.totalDebit)} · crédit {money(c.totalCredit)}
      </p>
      {c.problems.length > 0 && (
        <div class="error" role="alert">
          <strong>Export impossible dans ce format :</strong>
          <Items items={c.problems} />
        </div>
      )}
      {c.warnings.length > 0 && (
        <div class="warning">
          <strong>À savoir :</strong>
          <Items items={c.warnings} />
        </div>
      )}
    </section>
  );
}

/** Runs `check(format)` whenever the format changes (the latest answer wins). */
export function usePreflight(format: string | null, check: ((format: string) => Promise<AccountingCheck>) | null): CheckState | null {
  const [result, setResult] = useState<CheckState | null>(null);
  useEffect(() => {
    if (!format || !check) {
      setResult(null);
      return;
    }
    let current = true;
    setResult({ state: 'running' });
    check(format).then(
      (c) => current && setResult({ state: 'done', check: c }),
      (err: unknown) => current && setResult({ state: 'failed', message: err instanceof Error ? err.message : String(err) }),
    );
    return () => {
      current = false;
    };
  }, [format, check]);
  return result;
}
