import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler } from 'express';
import { GraphQLError, GraphQLSchema } from 'graphql';
import type { AppServices } from '../app';
import { AppError, ErrorCode } from '../errors';
import { boundedError } from '../logger';
import { ApiContext, contextFromAuthorization } from './context';
import { limitValidationRules, limitsPlugin, parseOptions } from './query-limits';
import { attachGraphQLWebSocket } from './ws';
import { createFormatError } from './format-error';
import { mountAdmin } from './admin';
import { mountMetrics } from './metrics';
import { checkReadiness, publicReadiness } from './health';
import { isOperator } from './ops-auth';
import { mountWeb } from './web';
import { createSchema } from './schema';
import { downloadLinkHandler } from '../links/links';

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

function jsonErrors(logger: AppServices['logger']): ErrorRequestHandler {
  return (err: { type?: string; status?: number; statusCode?: number }, _req, res, next) => {
    if (res.headersSent) return next(err);
    const status = err.status ?? err.statusCode ?? 500;
    let message = 'Internal server error';
    let code: string = ErrorCode.INTERNAL_SERVER_ERROR;
    if (err.type === 'entity.parse.failed') [message, code] = ['The request body is not valid JSON', ErrorCode.BAD_USER_INPUT];
    else if (err.type === 'entity.too.large') [message, code] = ['The request body is too large', ErrorCode.BAD_USER_INPUT];
    else if (status >= 400 && status < 500) [message, code] = ['Bad request', ErrorCode.BAD_USER_INPUT];
    else logger.error({ err: boundedError(err) }, 'Unexpected HTTP error');
    res.status(status >= 400 && status < 600 ? status : 500).json({ errors: [{ message, extensions: { code } }] });
  };
}

export async function createApiServer(services: AppServices): Promise<ApiServer> {
  const { logger, config } = services;
  const schema = await createSchema();
  const formatError = createFormatError(logger, { suggestions: config.graphqlIntrospection });
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);

  const { wsServer, cleanup: wsCleanup } = attachGraphQLWebSocket(httpServer, services, schema, formatError);

  const apollo = new ApolloServer<ApiContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    // Off unless development/test (GRAPHQL_INTROSPECTION); "Did you mean" goes with it (format-error.ts).
    introspection: config.graphqlIntrospection,
    // Cost limits (query-limits.ts): tokens at parse time, depth/aliases/directives
    // at validation, the estimated cost once the variables are known.
    parseOptions: parseOptions(config),
    validationRules: limitValidationRules(config),
    allowBatchedHttpRequests: false,
    // The process owns SIGINT/SIGTERM (boot.ts runMain, the demo): Apollo's own
    // handlers would stop it a second time and re-raise the signal.
    stopOnTerminationSignals: false,
    plugins: [
      limitsPlugin(config),
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
  app.get('/readyz', async (req, res) => {
    const report = await checkReadiness(services);
    if (!report.ready) logger.warn({ checks: report.checks }, 'Not ready');
    res.status(report.ready ? 200 : 503).json(isOperator(config, req) ? report : publicReadiness(report));
  });
  mountAdmin(app, services);
  mountMetrics(app, services);
  mountWeb(app);
  // docs/profiles.md: the links of the scheduled mails.
  app.get('/d/:token', downloadLinkHandler(services));
  app.use(
    '/graphql',
    express.json({ limit: bodyLimitBytes(config.exportMaxIds) }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        // A client's request id is logged: keep it short and printable.
        const given = req.headers['x-request-id'];
        const requestId = typeof given === 'string' && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
        try {
          return await contextFromAuthorization(services, req.headers.authorization, requestId, req.socket.remoteAddress);
        } catch (err) {
          const e = toGraphQLError(err);
          if (!(err instanceof AppError)) logger.error({ err: boundedError(err) }, 'Could not authenticate a request');
          throw new GraphQLError(e.message, { extensions: { ...e.extensions, http: { status: err instanceof AppError ? 401 : 503 } } });
        }
      },
    }),
  );

  // Last: errors of the body parser (malformed JSON, a body over the limit)
  // and anything else thrown before GraphQL — as a GraphQL-shaped JSON error,
  // never Express's HTML page with a stack trace, whatever NODE_ENV.
  app.use(jsonErrors(logger));

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
