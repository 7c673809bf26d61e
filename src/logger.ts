import pino, { DestinationStream, Logger } from 'pino';
import { traceLogFields, tracingEnabled } from './telemetry/tracing';

/** Longest text of one logged error field (message, stack, query): a log line stays readable and bounded. */
export const MAX_LOGGED_CHARS = 2048;

const clip = (s: string, max = MAX_LOGGED_CHARS) => (s.length > max ? `${s.slice(0, max)}… [${s.length - max} more characters]` : s);

/**
 * An error as it may be logged: type, code, bounded message and stack, and
 * for a database error the SQL text (bounded) without its parameter values —
 * TypeORM's QueryFailedError carries `parameters` (a request's 100,000 ids,
 * a tenant's search terms), and pg's error a `detail` that quotes rows.
 */
export function boundedError(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: clip(String(err)) };
  const e = err as Error & Record<string, unknown>;
  const driver = e.driverError as { code?: unknown } | undefined;
  const sqlState = typeof driver?.code === 'string' ? driver.code : typeof e.code === 'string' ? e.code : '';
  // PostgreSQL's data and constraint errors (classes 22, 23) quote the offending value:
  // 'invalid input syntax for type uuid: "<what the user sent>"'.
  const redact = Array.isArray(e.parameters) && /^2[23]/.test(sqlState) ? (s: string) => s.replace(/"[^"\n]*"/g, '"[value]"') : (s: string) => s;
  const out: Record<string, unknown> = { type: e.constructor?.name ?? e.name, message: clip(redact(e.message ?? '')) };
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = String(e.code).slice(0, 64);
  if (typeof e.stack === 'string') out.stack = clip(redact(e.stack));
  if (typeof e.query === 'string') out.query = clip(e.query.replace(/\s+/g, ' '), 1000);
  if (Array.isArray(e.parameters)) out.parameterCount = e.parameters.length;
  if (sqlState) out.sqlState = sqlState.slice(0, 5);
  if (e.cause !== undefined && depth < 2) out.cause = boundedError(e.cause, depth + 1);
  return out;
}

/**
 * JSON lines in production; human-readable when a person is watching. Errors logged as `err` are bounded.
 * With tracing on, a line written while a span is active carries its `trace_id` and `span_id`.
 */
export function createLogger(level: string, nodeEnv = process.env.NODE_ENV ?? 'development', destination?: DestinationStream): Logger {
  const pretty = !destination && nodeEnv !== 'production' && nodeEnv !== 'test' && process.stdout.isTTY === true;
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    serializers: { err: (err: unknown) => (err instanceof Error ? boundedError(err) : err) },
    ...(tracingEnabled() ? { mixin: traceLogFields } : {}),
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
