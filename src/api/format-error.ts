import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from 'pino';
import { AppError, ErrorCode } from '../errors';

/**
 * The one place where errors become `extensions.code`. Domain errors keep
 * their code and message; anything unexpected is logged with its stack and
 * returned as INTERNAL_SERVER_ERROR without internals.
 */
export function createFormatError(logger: Logger) {
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
      const code = (formatted.extensions?.code as string | undefined) ?? ErrorCode.BAD_USER_INPUT;
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    logger.error({ err: original, path: formatted.path }, 'Unexpected error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
