import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { AppError, unauthenticated } from '../errors';
import { ClaimNames, Principal, principalFromClaims, verifyToken } from './jwt';
import { JwksOptions, jwksKeyResolver } from './jwks';

/** The identity provider's algorithms (SECURITY.md): asymmetric only, so no service that verifies can also sign. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
/** Clock skew tolerated between the provider and this service (at most 30 s). */
export const CLOCK_TOLERANCE_SECONDS = 30;

export type TokenVerifier = (token: string) => Promise<Principal>;

/**
 * One verifier per configuration: HS256 with JWT_SECRET when set, the
 * identity provider's keys (JWT_JWKS_URL) when set. The token's header picks
 * the path, and each path accepts only its own algorithms: `alg: none`, or an
 * HS256 token whose "secret" is the provider's public key, gets nowhere.
 */
export function createTokenVerifier(config: Pick<Config, 'jwtSecret' | 'jwt' | 'jwtTenantClaim' | 'jwtRolesClaim'>, logger?: Logger, jwksOptions?: JwksOptions): TokenVerifier {
  const names: ClaimNames = { tenant: config.jwtTenantClaim, roles: config.jwtRolesClaim };
  const { jwtSecret, jwt } = config;
  const keys = jwt ? jwksKeyResolver(jwt.jwksUrl, logger, jwksOptions) : undefined;
  const accepted = [...(jwtSecret ? ['HS256'] : []), ...(jwt ? JWKS_ALGORITHMS : [])];

  return async (token) => {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthenticated('The token is invalid');
    }
    if (alg === 'HS256' && jwtSecret) return verifyToken(jwtSecret, token, names);
    if (typeof alg === 'string' && JWKS_ALGORITHMS.includes(alg) && jwt && keys) {
      try {
        const { payload } = await jwtVerify(token, keys, {
          algorithms: JWKS_ALGORITHMS,
          issuer: jwt.issuer,
          audience: jwt.audience,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['exp', 'sub'],
        });
        return principalFromClaims(payload, names);
      } catch (err) {
        throw refusal(err);
      }
    }
    throw unauthenticated(`The token is invalid: its algorithm ${JSON.stringify(alg)} is not accepted here (${accepted.join(', ')})`);
  };
}

/** jose's error → UNAUTHENTICATED with a reason a person can act on (never the library's internals). */
function refusal(err: unknown): Error {
  if (err instanceof errors.JWTExpired) return unauthenticated('The token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return unauthenticated('The token is invalid: it was not issued by the expected identity provider (iss)');
    if (err.claim === 'aud') return unauthenticated('The token is invalid: it is not meant for this service (aud)');
    if (err.claim === 'exp') return unauthenticated('The token has no expiry (exp)');
    if (err.claim === 'sub') return unauthenticated('The token has no subject (sub)');
    return unauthenticated(`The token is invalid: claim ${err.claim} (${err.reason})`);
  }
  if (err instanceof errors.JWKSNoMatchingKey) return unauthenticated("The token is invalid: its key is not among the identity provider's keys");
  if (err instanceof errors.JWSSignatureVerificationFailed) return unauthenticated('The token is invalid: bad signature');
  if (err instanceof AppError) return err; // already a reason (claims, the provider unreachable)
  // Anything else a malformed token makes jose throw (a header it cannot use, a key it cannot import).
  return unauthenticated('The token is invalid');
}
