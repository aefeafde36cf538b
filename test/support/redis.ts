import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './server.js';

/** The machine's shared Redis: never flushed, each spec keeps to its own key prefix. */
export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface PrivateRedis {
  url: string;
  port: number;
  /** Kills this server, by its PID. */
  kill(): Promise<void>;
  /** Stops (SIGSTOP) or continues (SIGCONT) it: a server that hangs without closing. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** Starts a fresh server on the same port (after kill). */
  restart(): Promise<void>;
}

/** A client that fails fast, for a spec to look at what Assay stored. */
export const redisClient = (url: string) =>
  new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });

/** A redis-server of the spec's own, on its own port and in memory, for fault tests. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let exited: Promise<unknown> = Promise.resolve();
  let kill: (signal: NodeJS.Signals) => void = () => undefined;
  const launch = async () => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    exited = new Promise((resolve) => child.once('exit', resolve));
    kill = (signal) => child.kill(signal);
    const client = redisClient(`redis://127.0.0.1:${port}`);
    for (let i = 0; i < 50; i++) {
      try {
        await client.connect();
        await client.ping();
        client.disconnect();
        return;
      } catch {
        client.disconnect();
        await sleep(100);
      }
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: async () => {
      kill('SIGKILL');
      await exited;
    },
    signal: (signal) => kill(signal),
    restart: launch,
  };
}
