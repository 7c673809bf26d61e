/** The token: from `/#token=<JWT>` (then removed from the address bar) or pasted; kept in sessionStorage. */
const KEY = 'invoice-export.token';

export function takeTokenFromLocation(): string | null {
  const hash = window.location.hash.replace(/^#/, '');
  if (hash) {
    const token = new URLSearchParams(hash).get('token');
    if (token) {
      saveToken(token);
      // The fragment never reaches a server, but it stays in the history and
      // in a copied address: replace it.
      window.history.replaceState(null, '', window.location.pathname + window.location.search);
    }
  }
  return sessionStorage.getItem(KEY);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token.trim().replace(/^Bearer\s+/i, ''));
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
