/**
 * How the page talks to the API: queries and mutations over HTTP POST
 * /graphql (urql), the subscription over graphql-ws on the same path
 * (directly: its complete() is how the page learns that an export reached a
 * final state), the token as `Authorization: Bearer` (HTTP) and in
 * connection_init (WebSocket).
 */
import { Client, CombinedError, fetchExchange, stringifyDocument, type AnyVariables, type TypedDocumentNode } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

/** An error of the API as the page shows it: the code (extensions.code) and the server's message. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function toApiError(err: CombinedError | Error | unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof CombinedError) {
    const first = err.graphQLErrors[0];
    if (first) {
      const retry = Number(first.extensions?.retryAfterSeconds);
      const message = Number.isFinite(retry) && retry > 0 ? `${first.message} (réessayez dans ${Math.ceil(retry)} s)` : first.message;
      return new ApiError(message, String(first.extensions?.code ?? 'GRAPHQL_ERROR'));
    }
    return new ApiError(`Le service ne répond pas (${err.networkError?.message ?? 'erreur réseau'}).`, 'NETWORK_ERROR');
  }
  return new ApiError(err instanceof Error ? err.message : String(err), 'ERROR');
}

export interface ApiCallbacks {
  /** The token was refused (HTTP UNAUTHENTICATED or WebSocket close 4401). */
  onUnauthenticated(message: string): void;
  /** The WebSocket came back after a drop: re-read what may have changed meanwhile. */
  onReconnected(): void;
  /** The WebSocket state, for the status line. */
  onConnectionChange?(state: 'connected' | 'reconnecting' | null): void;
}

export interface Api {
  query<D, V extends AnyVariables>(doc: TypedDocumentNode<D, V>, variables: V): Promise<D>;
  mutate<D, V extends AnyVariables>(doc: TypedDocumentNode<D, V>, variables: V): Promise<D>;
  /** Returns the unsubscribe function. `onEnd` is called once: on completion (no argument) or an error. */
  subscribe<D, V extends AnyVariables>(doc: TypedDocumentNode<D, V>, variables: V, onData: (d: D) => void, onEnd: (err?: ApiError) => void): () => void;
  dispose(): void;
}

const WS_CLOSE_UNAUTHENTICATED = 4401;
const WS_CLOSE_FORBIDDEN = 4403;
const WS_CLOSE_NORMAL = 1000;

export function createApi(token: string, cb: ApiCallbacks): Api {
  const origin = window.location;
  const wsUrl = `${origin.protocol === 'https:' ? 'wss' : 'ws'}://${origin.host}/graphql`;
  let dropped = false;
  let disposed = false;
  const ws: WsClient = createWsClient({
    url: wsUrl,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: true,
    // A dropped connection is retried for ever (1 s, 2 s, 4 s… at most 10 s apart);
    // subscriptions resume on the new socket and the page re-reads the state.
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 1000 * 2 ** retries) + Math.random() * 300)),
    shouldRetry: (e) => {
      const code = (e as { code?: number }).code;
      return code !== WS_CLOSE_UNAUTHENTICATED && code !== WS_CLOSE_FORBIDDEN;
    },
    on: {
      connected: () => {
        cb.onConnectionChange?.('connected');
        // Only after a drop: a lazy client also reconnects, normally, for a new subscription.
        if (dropped) cb.onReconnected();
        dropped = false;
      },
      closed: (e) => {
        if (disposed) return;
        const close = e as { code?: number; reason?: string };
        if (close.code === WS_CLOSE_UNAUTHENTICATED) {
          cb.onUnauthenticated(close.reason?.replace(/^UNAUTHENTICATED: /, '') || 'Jeton refusé');
        } else if (close.code === WS_CLOSE_NORMAL) {
          cb.onConnectionChange?.(null); // no subscription left (lazy client)
        } else {
          dropped = true;
          cb.onConnectionChange?.('reconnecting');
        }
      },
    },
  });

  const client = new Client({
    url: '/graphql',
    requestPolicy: 'network-only',
    preferGetMethod: false,
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    exchanges: [fetchExchange],
  });

  function unwrap<D>(res: { data?: D; error?: CombinedError }): D {
    if (res.error) {
      const err = toApiError(res.error);
      if (err.code === 'UNAUTHENTICATED') cb.onUnauthenticated(err.message);
      throw err;
    }
    return res.data as D;
  }

  return {
    async query(doc, variables) {
      return unwrap(await client.query(doc, variables).toPromise());
    },
    async mutate(doc, variables) {
      return unwrap(await client.mutation(doc, variables).toPromise());
    },
    subscribe<D, V extends AnyVariables>(doc: TypedDocumentNode<D, V>, variables: V, onData: (d: D) => void, onEnd: (err?: ApiError) => void) {
      let ended = false;
      const end = (err?: ApiError) => {
        if (!ended) {
          ended = true;
          onEnd(err);
        }
      };
      const unsubscribe = ws.subscribe<D>(
        { query: stringifyDocument(doc), variables: variables as Record<string, unknown> },
        {
          next: (msg) => {
            if (msg.errors?.length) end(new ApiError(msg.errors[0].message, String(msg.errors[0].extensions?.code ?? 'GRAPHQL_ERROR')));
            else if (msg.data) onData(msg.data);
          },
          error: (err) => {
            if (Array.isArray(err)) end(new ApiError(String(err[0]?.message), String(err[0]?.extensions?.code ?? 'GRAPHQL_ERROR')));
            else end(new ApiError('La connexion temps réel a été fermée.', 'WEBSOCKET_CLOSED'));
          },
          complete: () => end(),
        },
      );
      return () => {
        ended = true;
        unsubscribe();
      };
    },
    dispose() {
      disposed = true;
      void ws.dispose();
    },
  };
}

/** The claims the page shows (never trusted: the API checks the signature). */
export interface TokenInfo {
  roles: string[];
  tenantId?: string;
  expiresAt?: Date;
}

export function readToken(token: string): TokenInfo | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims = JSON.parse(json) as { roles?: unknown; tenantId?: unknown; exp?: unknown };
    return {
      roles: Array.isArray(claims.roles) ? claims.roles.map(String) : [],
      tenantId: typeof claims.tenantId === 'string' ? claims.tenantId : undefined,
      expiresAt: typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : undefined,
    };
  } catch {
    return null;
  }
}
