import { type ExportedJWKSCache, type JWTVerifyGetKey, createLocalJWKSet, createRemoteJWKSet, errors, jwksCache } from 'jose';
import type { Logger } from 'pino';
import { unauthenticated } from '../errors';

/** An unknown `kid` refetches the key set at most this often (SECURITY.md). */
export const JWKS_COOLDOWN_MS = 30_000;
/** Keys are refetched this often while requests come in (a removed key stops working then). */
export const JWKS_MAX_AGE_MS = 10 * 60_000;
/** One fetch of the key set never takes longer: a provider that hangs must not hang every request. */
export const JWKS_FETCH_TIMEOUT_MS = 3_000;

type Header = Parameters<JWTVerifyGetKey>[0];
type Token = Parameters<JWTVerifyGetKey>[1];
type Key = Awaited<ReturnType<ReturnType<typeof createLocalJWKSet>>>;

/** Errors that say "the key set cannot be had", as opposed to "this token's key is not in it". */
function isUnreachable(err: unknown): boolean {
  return !(err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JOSENotSupported);
}

/**
 * The identity provider's keys, for jose's jwtVerify. jose caches them and
 * refetches on an unknown kid (not more than once per JWKS_COOLDOWN_MS);
 * on top of that, while the provider is unreachable:
 * - a token whose key was fetched before still verifies (the last key set
 *   seen is kept, even past JWKS_MAX_AGE_MS);
 * - after a failed fetch, nobody waits for another one for JWKS_COOLDOWN_MS:
 *   a token with an unknown key is refused at once with the reason.
 */
export interface JwksOptions {
  /** Tests only: a shorter wait between two fetches for unknown keys. */
  cooldownMs?: number;
  fetchTimeoutMs?: number;
}

export function jwksKeyResolver(url: string, logger?: Logger, opts: JwksOptions = {}): JWTVerifyGetKey {
  const cooldownMs = opts.cooldownMs ?? JWKS_COOLDOWN_MS;
  const fetchTimeoutMs = opts.fetchTimeoutMs ?? JWKS_FETCH_TIMEOUT_MS;
  // jose writes every key set it fetched here (uat: when).
  const fetched = { uat: 0 } as ExportedJWKSCache;
  const remote = createRemoteJWKSet(new URL(url), {
    cooldownDuration: cooldownMs,
    cacheMaxAge: JWKS_MAX_AGE_MS,
    timeoutDuration: fetchTimeoutMs,
    [jwksCache]: fetched,
  });
  let failedAt = 0;
  let seenUat = 0;
  let local: ReturnType<typeof createLocalJWKSet> | undefined;

  const fromLastKeys = async (header: Header, token: Token, cause: string): Promise<Key> => {
    if (local) {
      try {
        return await local(header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      }
    }
    throw unauthenticated(`The identity provider's keys cannot be fetched (${cause}) and the token's key${header.kid ? ` "${header.kid}"` : ''} is not among those known: try again later`);
  };

  return async (header: Header, token: Token): Promise<Key> => {
    if (Date.now() - failedAt < cooldownMs) return fromLastKeys(header, token, 'it did not answer a moment ago');
    try {
      const key = await remote(header, token);
      remember();
      return key;
    } catch (err) {
      remember();
      if (!isUnreachable(err)) throw err;
      failedAt = Date.now();
      const cause = err instanceof errors.JWKSTimeout ? `no answer within ${fetchTimeoutMs} ms` : ((err as Error).message || String(err)).split('\n')[0];
      logger?.warn({ jwksUrl: url, err: cause }, 'Identity provider key set unreachable: tokens signed with known keys are still accepted');
      return fromLastKeys(header, token, cause);
    }
  };

  /** Keeps the last key set fetched, for when the provider cannot be reached. */
  function remember() {
    if (fetched.uat === seenUat || !fetched.jwks) return;
    seenUat = fetched.uat;
    local = createLocalJWKSet(fetched.jwks);
  }
}
