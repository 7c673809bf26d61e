import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import IORedis from 'ioredis';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface ThrowawayRedis {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/**
 * A redis-server of one test only, on a free port (or `port`, to restart
 * one on the same address), with nothing on disk: outages are played on it,
 * never on the machine's shared Redis.
 */
export async function startRedis(port?: number): Promise<ThrowawayRedis> {
  const p = port ?? (await freePort());
  const proc: ChildProcess = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${p}`;
  const until = Date.now() + 10_000;
  for (;;) {
    const c = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') break;
    } catch (err) {
      if (Date.now() > until) throw new Error(`the throwaway redis-server did not start: ${(err as Error).message}`);
    } finally {
      c.disconnect();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port: p,
    url,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
