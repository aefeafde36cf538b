import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

/** Runs a PostgreSQL tool as the postgres user, as the server refuses to run as root. */
function asPostgres(tool: string, ...args: string[]): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A PostgreSQL server of the test's own, in a temporary folder on a port below 32768, that
 * the test may crash and restart. Never the machine's shared server.
 */
export class PrivatePostgres {
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<PrivatePostgres> {
    let port = 0;
    for (let i = 0; i < 50 && !port; i++) {
      const candidate = 20_000 + Math.floor(Math.random() * 12_000);
      if (await portIsFree(candidate)) port = candidate;
    }
    if (!port) throw new Error('no free port below 32768 for a private PostgreSQL');
    const dir = mkdtempSync(join(tmpdir(), 'assay-pg-'));
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
    const pg = new PrivatePostgres(dir, port);
    // Whatever happens to the test, the server does not outlive it.
    process.once('exit', () => pg.destroySync());
    asPostgres('initdb', '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync');
    pg.startServer();
    return pg;
  }

  private startServer(): void {
    asPostgres(
      'pg_ctl',
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    );
  }

  /** The postmaster's process id, from its pid file. */
  get pid(): number {
    return Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /** Crashes the server as a power cut would: no checkpoint, every connection dropped. */
  crash(): void {
    asPostgres('pg_ctl', '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop');
  }

  /** Starts it again on the same data; it recovers from its write-ahead log. */
  restart(): void {
    this.startServer();
  }

  /** Stops the server and deletes its folder. */
  destroySync(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      asPostgres('pg_ctl', '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop');
    } catch {
      // not running
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
