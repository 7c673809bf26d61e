import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';
import { AppError, ErrorCode } from '../errors';
import { boundedError } from '../logger';

/**
 * The one place where errors become `extensions.code`. Domain errors keep
 * their code and message; anything unexpected is logged with its stack and
 * returned as INTERNAL_SERVER_ERROR without internals.
 */
export function createFormatError(logger: Logger, options: { suggestions?: boolean } = {}) {
  // "Did you mean …?" lists field and type names: schema discovery, off with introspection.
  const message = (m: string) => (options.suggestions === false ? m.replace(/\s*Did you mean [^?]*\?/g, '') : m);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, ...(original.details ?? {}) },
      };
    }
    if (original instanceof GraphQLError) {
      // Raised by graphql-js or Apollo themselves: parse and validation
      // failures, variable coercion, our scalars. Their message is for the client.
      const limit = formatted.extensions?.limit as string | undefined;
      if (limit) {
        // query-limits.ts: Apollo re-labels validation errors GRAPHQL_VALIDATION_FAILED; a limit is bad input.
        return { message: formatted.message, locations: formatted.locations, extensions: { code: ErrorCode.BAD_USER_INPUT, limit } };
      }
      // graphql-js's parser (maxTokens): "Document contains more that N tokens" (sic).
      const tokens = /Document contains more th\w+ (\d+) tokens/.exec(formatted.message);
      if (tokens) {
        return {
          message: `The document has more than ${tokens[1]} tokens (GRAPHQL_MAX_TOKENS)`,
          extensions: { code: ErrorCode.BAD_USER_INPUT, limit: 'GRAPHQL_MAX_TOKENS' },
        };
      }
      const code = (formatted.extensions?.code as string | undefined) ?? ErrorCode.BAD_USER_INPUT;
      return { message: message(formatted.message), locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    logger.error({ err: boundedError(original), path: formatted.path }, 'Unexpected error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
