import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SMTPServer } from 'smtp-server';

export interface MailSink {
  /** `smtp://127.0.0.1:<port>`: what SMTP_URL would be. */
  url: string;
  directory: string;
  close(): Promise<void>;
}

/**
 * The development default when SMTP_URL is unset (single-process modes
 * only): an SMTP server on loopback that accepts every message and writes
 * it as `<directory>/<time>-<random>.eml`, as the embedded S3 does for files.
 * Nothing leaves the machine.
 */
export async function startMailSink(directory: string, port = 0): Promise<MailSink> {
  const dir = path.resolve(directory);
  mkdirSync(dir, { recursive: true });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    banner: 'invoice-export development mail sink',
    size: 10 * 1024 * 1024,
    onData(stream, _session, callback) {
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
      pipeline(stream, createWriteStream(path.join(dir, name))).then(() => callback(), (err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${bound}`,
    directory: dir,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
