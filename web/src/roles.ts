/**
 * What the signed-in roles allow (docs/frontend.md, docs/profiles.md), read from the token the
 * page already shows: the page offers only that, and says why the rest is
 * absent, instead of letting the API refuse a click.
 */
export const canExport = (roles: readonly string[]) => roles.includes('ACCOUNTANT') || roles.includes('ADMIN');
export const canManageSchedules = (roles: readonly string[]) => roles.includes('ADMIN');

export function exportingAbsentReason(roles: readonly string[]): string {
  const shown = roles.length ? roles.join(', ') : 'aucun rôle';
  return `Votre rôle (${shown}) permet de consulter les factures et les exports ; exporter et télécharger demandent le rôle ACCOUNTANT ou ADMIN.`;
}
