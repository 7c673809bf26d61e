/**
 * Problems (refusals) and warnings of an accounting export, one item per
 * (rule, field, width): the first 20 offending documents in export order and
 * the count of all of them (docs/accounting.md, "Refusals").
 */

export interface LayoutProblem {
  rule: string;
  field: string | null;
  width: number | null;
  count: number;
  documents: string[];
}

export const MAX_LISTED_DOCUMENTS = 20;

/** Collects items; a document counts once per item even when several of its lines offend. */
export class ProblemList {
  private readonly items = new Map<string, LayoutProblem & { last: string | null }>();
  private previous: (LayoutProblem & { last: string | null }) | null = null;

  add(rule: string, field: string | null, width: number | null, document: string): void {
    // The same item as the previous call, most of the time (a label shortened on line after line).
    let item = this.previous;
    if (!item || item.rule !== rule || item.field !== field || item.width !== width) {
      const key = `${rule}\u0000${field ?? ''}\u0000${width ?? ''}`;
      item = this.items.get(key) ?? null;
      if (!item) {
        item = { rule, field, width, count: 0, documents: [], last: null };
        this.items.set(key, item);
      }
      this.previous = item;
    }
    if (item.last === document) return;
    item.last = document;
    item.count++;
    if (item.documents.length < MAX_LISTED_DOCUMENTS) item.documents.push(document);
  }

  get size(): number {
    return this.items.size;
  }

  list(): LayoutProblem[] {
    return [...this.items.values()].map(({ rule, field, width, count, documents }) => ({ rule, field, width, count, documents }));
  }
}

/** What a rule says, in French (the message of the refusal repeats every item). */
function ruleText(p: LayoutProblem): string {
  switch (p.rule) {
    case 'ENTRY_NUMBER_TOO_LONG':
      return `${p.field} dépasse ${p.width} chiffres`;
    case 'IDENTIFIER_NOT_ENCODABLE':
      return `${p.field} contient un caractère que le format ne peut pas écrire tel quel`;
    case 'AMOUNT_TOO_LARGE':
      return `un montant au ${p.field === 'Debit' ? 'débit' : 'crédit'} dépasse les ${p.width} caractères du champ montant`;
    case 'LABEL_SHORTENED':
      return `${p.field} raccourci à ${p.width} caractères`;
    case 'VAT_ACCOUNT_MISSING':
      return `aucun compte pour ${p.field}`;
    case 'UNBALANCED_ENTRIES':
      return `écriture déséquilibrée`;
    case 'SPANS_FISCAL_YEARS':
      return `hors de l'exercice de la dernière écriture, le FEC porte un nom daté`;
    case 'INVALID_ACCOUNT':
      return `${p.field} n'est pas un numéro de compte valide`;
    default:
      return p.width === null ? `${p.field ?? ''}`.trim() : `${p.field} dépasse ${p.width} caractères`;
  }
}

/** `PIECE_REF_TOO_LONG : PieceRef dépasse 10 caractères (3 documents : F1, F2, F3)`. */
export function describeProblem(p: LayoutProblem): string {
  if (p.rule === 'SIREN_INVALID') return `SIREN_INVALID : le SIREN ne passe pas le contrôle de Luhn, le FEC porte un nom daté`;
  if (p.rule === 'SPANS_FISCAL_YEARS' && p.count === 0) return `SPANS_FISCAL_YEARS : les écritures couvrent plusieurs exercices, le FEC porte un nom daté`;
  const more = p.count > p.documents.length ? ', …' : '';
  return `${p.rule} : ${ruleText(p)} (${p.count} document${p.count > 1 ? 's' : ''} : ${p.documents.join(', ')}${more})`;
}

export function describeProblems(problems: readonly LayoutProblem[]): string {
  return problems.map(describeProblem).join(' ; ');
}
