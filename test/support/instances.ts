import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The built server, as `npm start` runs it. */
export const MAIN = 'dist/src/main.js';

/** Builds dist/ (a spec's beforeAll): the instances run the built server, as in production. */
export function build(): void {
  execSync('npm run -s build', { stdio: 'ignore' });
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

export interface Instance {
  url: string;
  port: number;
  child: ChildProcess;
  /** Settles when the process is gone: its signal's name, or `code N`. */
  exited: Promise<string>;
  /** Everything it wrote to stdout and stderr so far (its JSON log lines). */
  output(): string;
  /** Sends the signal (SIGTERM: a graceful stop) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<string>;
}

export interface InstanceOptions {
  /** The settings; PATH, PORT and HOST are set here. */
  env: Record<string, string>;
  port?: number;
  /** The path polled until it answers 200. */
  readyPath?: string;
  nodeArgs?: string[];
}

/**
 * Starts the built server as a child process on its own port and waits until it is ready.
 * Several may run at once on one database: that is how a fleet runs.
 */
export async function startInstance(o: InstanceOptions): Promise<Instance> {
  const port = o.port ?? (await freePort());
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), MAIN], {
    env: { PATH: process.env.PATH ?? '', ...o.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  // Nest closes the app on SIGTERM, then re-raises the signal: the exit is by signal.
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const instance: Instance = {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    exited,
    output: () => output,
    stop: (signal = 'SIGTERM') => {
      child.kill(signal); // a no-op once it has exited
      return exited;
    },
  };
  for (let i = 0; i < 300 && !gone; i++) {
    try {
      if ((await fetch(`${instance.url}${o.readyPath ?? '/health/ready'}`)).ok) return instance;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await instance.stop('SIGKILL');
  throw new Error(`the server on port ${port} did not start:\n${output}`);
}
