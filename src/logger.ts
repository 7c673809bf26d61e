import pino, { Logger } from 'pino';

/** JSON lines in production; human-readable when a person is watching. */
export function createLogger(level: string, nodeEnv = process.env.NODE_ENV ?? 'development'): Logger {
  const pretty = nodeEnv !== 'production' && nodeEnv !== 'test' && process.stdout.isTTY === true;
  return pino({
    level,
    base: { pid: process.pid },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}

export type { Logger };
