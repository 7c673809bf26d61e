import type { ExportFormat } from '../entities/enums';
import { badInput } from '../errors';
import { extensionFor } from '../exports/formats';
import { zonedDateTimeParts } from '../exports/zoned-time';

/**
 * A profile's file name (docs/profiles.md): letters, digits, `-`, `_`, `.` and
 * the placeholders {kind} {date} {time} {tenant}; the extension of the
 * format is added. Nothing that a file system, a header or a path could
 * read otherwise (no `/`, `\`, `..`, space or control character).
 */
export const FILE_NAME_PLACEHOLDERS = ['kind', 'date', 'time', 'tenant'] as const;
const MAX_PATTERN = 100;
const SAFE = /^[A-Za-z0-9._-]+$/;

export function validateFileNamePattern(pattern: string | null | undefined, field = 'fileNamePattern'): string | null {
  if (pattern === null || pattern === undefined) return null;
  const p = pattern.trim();
  if (!p) return null;
  if (p.length > MAX_PATTERN) throw badInput(`${field} is too long (at most ${MAX_PATTERN} characters)`, { field });
  const unknown = [...p.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).filter((n) => !(FILE_NAME_PLACEHOLDERS as readonly string[]).includes(n));
  if (unknown.length) {
    throw badInput(`${field} has an unknown placeholder {${unknown[0]}}: use ${FILE_NAME_PLACEHOLDERS.map((n) => `{${n}}`).join(' ')}`, { field });
  }
  const literal = p.replace(/\{(kind|date|time|tenant)\}/g, 'x');
  const bad = [...literal].find((ch) => !SAFE.test(ch));
  if (bad !== undefined) {
    throw badInput(`${field} may hold only letters, digits, "-", "_", "." and placeholders; ${JSON.stringify(bad)} is not allowed`, { field });
  }
  if (literal.startsWith('.') || literal.includes('..')) throw badInput(`${field} may not start with "." nor hold ".."`, { field });
  return p;
}

/** ASCII letters and digits of a name, words joined by `-`: `École de musique` → `Ecole-de-musique`. */
export function slug(name: string): string {
  return (
    name
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'structure'
  );
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The pattern filled in (the stamp on the tenant's wall clock at `at`), with `.<extension>`. */
export function renderFileName(
  pattern: string,
  v: { kindStem: string; extension: string; at: Date; timeZone: string; tenantName: string },
): string {
  const p = zonedDateTimeParts(v.at, v.timeZone);
  const values: Record<string, string> = {
    kind: v.kindStem,
    date: `${p.year}${pad2(p.month)}${pad2(p.day)}`,
    time: `${pad2(p.hour)}${pad2(p.minute)}`,
    tenant: slug(v.tenantName),
  };
  const base = pattern.replace(/\{(kind|date|time|tenant)\}/g, (_, n: string) => values[n]);
  const ext = `.${v.extension}`;
  return base.toLowerCase().endsWith(ext) ? base : base + ext;
}

/** The name of an export's file from its recorded pattern (null: none, the kind names it). */
export function patternFileName(
  exp: { options: { fileNamePattern: string | null } | null; format: ExportFormat; createdAt: Date },
  kindStem: string,
  tenant: { name: string; timezone: string },
): string | null {
  const pattern = exp.options?.fileNamePattern;
  if (!pattern) return null;
  return renderFileName(pattern, { kindStem, extension: extensionFor(exp.format), at: exp.createdAt, timeZone: tenant.timezone, tenantName: tenant.name });
}
