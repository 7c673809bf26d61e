import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { AppServices } from '../app';
import { AppError } from '../errors';
import { ApiContext, contextFromAuthorization } from './context';
import { createFormatError } from './format-error';
import { mountAdmin } from './admin';
import { mountWeb } from './web';
import { checkReadiness } from './health';
import { createSchema } from './schema';

export interface ApiServer {
  httpServer: http.Server;
  schema: GraphQLSchema;
  /** Resolves with the bound port. */
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/** Room for a request that carries EXPORT_MAX_IDS ids (a uuid is ~40 bytes in JSON). */
export function bodyLimitBytes(maxIds: number): number {
  return Math.max(1024 * 1024, maxIds * 48 + 256 * 1024);
}

function toGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof AppError) return new GraphQLError(err.message, { extensions: { code: err.code } });
  return new GraphQLError('Internal server error', { originalError: err instanceof Error ? err : undefined });
}

export async function createApiServer(services: AppServices): Promise<ApiServer> {
  const { logger, config } = services;
  const schema = await createSchema();
  const formatError = createFormatError(logger);
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);

  // noServer: a WebSocketServer bound to the HTTP server re-emits its errors,
  // and graphql-ws prints those with a stack trace ("Internal error emitted on
  // the WebSocket server"), so a port in use gave a wall of text instead of
  // boot's one line. Upgrades are routed here instead.
  const wsServer = new WebSocketServer({ noServer: true });
  httpServer.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit('connection', ws, req));
  });
  const wsCleanup = useServer<{ authorization?: unknown }>(
    {
      schema,
      onConnect: (ctx) => {
        try {
          contextFromAuthorization(services, ctx.connectionParams?.authorization, 'ws');
          return true;
        } catch (err) {
          // 4401 + the reason; graphql-ws clients surface it in their close event.
          ctx.extra.socket.close(4401, err instanceof Error ? `UNAUTHENTICATED: ${err.message}`.slice(0, 120) : 'UNAUTHENTICATED');
          return false;
        }
      },
      context: (ctx) => contextFromAuthorization(services, ctx.connectionParams?.authorization, randomUUID()),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<ApiContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // The process owns SIGINT/SIGTERM (boot.ts runMain, the demo): Apollo's own
    // handlers would stop it a second time and re-raise the signal.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const report = await checkReadiness(services);
    res.status(report.ready ? 200 : 503).json(report);
  });
  mountAdmin(app, services);
  mountWeb(app);
  app.use(
    '/graphql',
    express.json({ limit: bodyLimitBytes(config.exportMaxIds) }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const requestId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
        try {
          return contextFromAuthorization(services, req.headers.authorization, requestId);
        } catch (err) {
          const e = toGraphQLError(err);
          throw new GraphQLError(e.message, { extensions: { ...e.extensions, http: { status: 401 } } });
        }
      },
    }),
  );

  return {
    httpServer,
    schema,
    listen(port, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const addr = httpServer.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
      });
    },
    async close() {
      await apollo.stop(); // drains HTTP and closes the WebSocket clients
      wsServer.close();
    },
  };
}
