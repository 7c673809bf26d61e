import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { type JWK, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from 'jose';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export type Alg = 'RS256' | 'ES256' | 'EdDSA';

export interface TestKey {
  kid: string;
  alg: Alg;
  privateKey: PrivateKey;
  publicJwk: JWK;
}

export async function makeKey(alg: Alg, kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** An identity provider's key set over real HTTP: keys can be added (rotation), and the server stopped (outage). */
export interface JwksServer {
  url: string;
  issuer: string;
  keys: TestKey[];
  /** GET requests answered so far. */
  hits(): number;
  add(key: TestKey): void;
  /** Stops answering (connections refused) until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** A token signed by `key` with the provider's issuer; `claims` override the defaults. */
  sign(key: TestKey, claims: JWTPayload, opts?: { audience?: string; issuer?: string; expiresIn?: string | number; header?: Record<string, unknown> }): Promise<string>;
}

export async function startJwksServer(initial: TestKey[], audience: string): Promise<JwksServer> {
  const keys = [...initial];
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
  });
  const listen = (port = 0) => new Promise<number>((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const port = await listen();
  const url = `http://127.0.0.1:${port}/realms/school/protocol/openid-connect/certs`;
  const issuer = `http://127.0.0.1:${port}/realms/school`;
  return {
    url,
    issuer,
    keys,
    hits: () => hits,
    add: (key) => keys.push(key),
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    start: async () => {
      await listen(port);
    },
    sign: (key, claims, opts = {}) => {
      let jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...opts.header })
        .setIssuer(opts.issuer ?? issuer)
        .setAudience(opts.audience ?? audience)
        .setIssuedAt();
      if (opts.expiresIn !== undefined) jwt = jwt.setExpirationTime(opts.expiresIn);
      else if (claims.exp === undefined) jwt = jwt.setExpirationTime('10m');
      return jwt.sign(key.privateKey);
    },
  };
}
