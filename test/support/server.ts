import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll } from '@jest/globals';

/** The built service and the `assay` command, as `npm start` and `npm run token` run them. */
export const MAIN = 'dist/src/main.js';
export const CLI = 'dist/src/cli.js';
export const baseEnv = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' };

/** The processes this spec file started that have not exited yet. */
const running = new Set<ChildProcess>();

// After all the spec file's own hooks: a server its hooks left running (a start that
// outlived a timed-out hook, a failed test before its stop) is killed, so Jest can exit.
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** Compiles dist/ when a source changed since the last build, as `npm start` does. */
export function ensureBuilt(): void {
  execFileSync(process.execPath, ['scripts/ensure-built.mjs'], { stdio: 'inherit' });
}

export function mint(env: Record<string, string>, ...args: string[]): string {
  return execFileSync(process.execPath, [CLI, 'token', ...args], {
    env: { ...baseEnv, ...env },
    encoding: 'utf8',
  }).trim();
}

/** A free TCP port below the kernel's ephemeral range, so that no client socket takes it. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer()
        .once('error', () => resolve(false))
        .listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Every line the server wrote to stdout and stderr, as it came. */
  lines: string[];
  exited: Promise<Exit>;
  /** Sends the signal (SIGTERM: a graceful stop) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/**
 * Starts a command that serves Assay on `port` (the built server by default) and waits
 * until it answers /health/ready.
 */
export async function startServer(
  env: Record<string, string>,
  options: { port?: number; command?: string[]; readyWithinMs?: number } = {},
): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const [command, ...args] = options.command ?? [process.execPath, MAIN];
  const child = spawn(command, args, {
    env: { ...baseEnv, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  running.add(child);
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    child.kill(signal); // a no-op once it has exited
    return exited;
  };
  const deadline = Date.now() + (options.readyWithinMs ?? 240_000);
  while (Date.now() < deadline && running.has(child)) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return { child, url, lines, exited, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not start:\n${lines.join('\n')}`);
}

/** Whether a process with this id still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
