/**
 * GraphQL over WebSocket (graphql-ws on ws), with the limits of issue 9:
 *
 * - WS_MAX_PAYLOAD_BYTES (64 KiB): ws refuses a bigger message from its
 *   frame header (close 1009) before buffering it, so four 99 MB
 *   connection_init messages cost nothing;
 * - connection_init within 3 s (graphql-ws's connectionInitWaitTimeout
 *   default, kept explicit here), else close 4408;
 * - WS_MAX_SUBSCRIPTIONS operations at once per socket;
 * - the token is checked at connection_init (4401 with the reason), and the
 *   socket is closed with 4401 when the token expires: a subscription must
 *   not keep delivering fresh download URLs to an expired credential;
 * - every operation passes the same limits as over HTTP (query-limits.ts).
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { AppServices } from '../app';
import type { Principal } from '../auth/jwt';
import { authenticate, contextFor } from './context';
import { checkOperation, introspectionRules, limitError, limitValidationRules, parseOptions, tokenLimitError } from './query-limits';

export const CONNECTION_INIT_TIMEOUT_MS = 3000;
/** setTimeout's ceiling (~24.8 days); a longer-lived token is re-checked then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

interface SocketState {
  principal?: Principal;
  expiryTimer?: NodeJS.Timeout;
}

export function attachGraphQLWebSocket(httpServer: http.Server, services: AppServices, schema: GraphQLSchema, formatError: FormatError) {
  const { config } = services;
  // noServer: a WebSocketServer bound to the HTTP server re-emits its errors,
  // and graphql-ws prints those with a stack trace ("Internal error emitted on
  // the WebSocket server"), so a port in use gave a wall of text instead of
  // boot's one line. Upgrades are routed here instead.
  const wsServer = new WebSocketServer({ noServer: true, maxPayload: config.wsMaxPayloadBytes });
  httpServer.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wsServer.handleUpgrade(req, socket, head, (ws) => {
      // ws answers a message over maxPayload with close 1009 and then keeps
      // reading (and discarding) the rest of it: cut the connection instead
      // of draining 99 MB. The error stops here: graphql-ws would print it
      // with a stack trace to stderr, once per attempt.
      const emit = ws.emit.bind(ws);
      ws.emit = ((event: string, ...args: unknown[]) => {
        if (event === 'error' && (args[0] as { code?: string } | undefined)?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
          services.logger.warn({ maxPayload: config.wsMaxPayloadBytes }, 'WebSocket message over WS_MAX_PAYLOAD_BYTES: connection cut');
          ws.terminate();
          return true;
        }
        return emit(event, ...args);
      }) as typeof ws.emit;
      wsServer.emit('connection', ws, req);
    });
  });

  const rules = [...specifiedRules, ...limitValidationRules(config), ...introspectionRules(config)];
  const states = new WeakMap<object, SocketState>();
  const stateOf = (extra: object) => {
    let s = states.get(extra);
    if (!s) states.set(extra, (s = {}));
    return s;
  };

  const cleanup = useServer<{ authorization?: unknown }>(
    {
      schema,
      connectionInitWaitTimeout: CONNECTION_INIT_TIMEOUT_MS,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        try {
          const principal = await authenticate(services, ctx.connectionParams?.authorization);
          const state = stateOf(ctx.extra);
          state.principal = principal;
          if (principal.expiresAt !== undefined) {
            const closeAtExpiry = () => {
              const left = principal.expiresAt! * 1000 - Date.now();
              if (left > 0) {
                state.expiryTimer = setTimeout(closeAtExpiry, Math.min(left, MAX_TIMER_MS));
                return;
              }
              socket.close(4401, 'UNAUTHENTICATED: The token has expired');
            };
            closeAtExpiry();
          }
          return true;
        } catch (err) {
          // 4401 + the reason; graphql-ws clients surface it in their close event.
          socket.close(4401, err instanceof Error ? `UNAUTHENTICATED: ${err.message}`.slice(0, 120) : 'UNAUTHENTICATED');
          return false;
        }
      },
      onClose: (ctx) => {
        clearTimeout(states.get(ctx.extra)?.expiryTimer);
      },
      onSubscribe: (ctx, _id, payload) => {
        // graphql-ws has registered this operation already: more than the limit means one too many.
        if (Object.keys(ctx.subscriptions).length > config.wsMaxSubscriptions) {
          return [
            limitError('WS_MAX_SUBSCRIPTIONS', `At most ${config.wsMaxSubscriptions} operations may run at once on one connection (WS_MAX_SUBSCRIPTIONS)`),
          ];
        }
        let document;
        try {
          document = parse(payload.query, parseOptions(config));
        } catch (err) {
          const e = err instanceof GraphQLError ? err : new GraphQLError(String(err));
          return [tokenLimitError(e, config) ?? e];
        }
        const errors = validate(schema, document, rules);
        if (errors.length) return [...errors];
        const refused = checkOperation(config, schema, document, payload.operationName, payload.variables ?? undefined);
        if (refused) return [refused];
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      context: (ctx) => {
        const principal = stateOf(ctx.extra).principal;
        if (!principal) throw new GraphQLError('Unauthenticated', { extensions: { code: 'UNAUTHENTICATED' } });
        return contextFor(services, principal, randomUUID(), ctx.extra.request.socket.remoteAddress);
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e)),
    },
    wsServer,
  );
  return { wsServer, cleanup };
}
