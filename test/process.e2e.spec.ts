import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { idleConnections, keepAliveLoad } from './support/load.js';
import {
  alive,
  baseEnv,
  ensureBuilt,
  freePort,
  MAIN,
  mint,
  startServer,
  CLI,
} from './support/server.js';

// The built service as a user runs it: `npm start` with nothing set, `npm run token`, SIGTERM.
const mintIn = (dataDir: string, ...args: string[]) => mint({ DATA_DIR: dataDir }, ...args);
const startIn = (dataDir: string, port: number) => startServer({ DATA_DIR: dataDir }, { port });

describe('the built service', () => {
  beforeAll(() => {
    ensureBuilt();
  });

  it('npm run token mints a token with the dev secret it keeps in DATA_DIR', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'assay-token-'));
    const evaluator = randomUUID();
    const token = mintIn(
      dataDir,
      '--account',
      'acme',
      '--sub',
      'judge',
      '--evaluator',
      evaluator,
      '--ttl',
      '5m',
    );
    const secret = readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim();
    expect(Buffer.byteLength(secret)).toBeGreaterThanOrEqual(32);
    const claims = jwt.verify(token, secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ account_id: 'acme', sub: 'judge', evaluator_id: evaluator });
    expect(claims.exp! - claims.iat!).toBe(300);
    mintIn(dataDir, '--account', 'acme', '--sub', 'a');
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim()).toBe(secret);

    const bad = spawnSync(process.execPath, [CLI, 'token', '--account', 'acme'], {
      env: { ...baseEnv, DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--sub is required');
  });

  it('refuses to start on a bad setting, naming it', () => {
    for (const [env, message] of [
      [{ PORT: 'abc' }, 'PORT'],
      [{ NODE_ENV: 'production' }, 'JWT_SECRET or JWT_JWKS_URL'],
    ] as const) {
      const run = spawnSync(process.execPath, [MAIN], {
        env: { ...baseEnv, ...env },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(message);
    }
  });

  it('says what it does while it starts, one line per step, on a new embedded database', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'assay-steps-'));
    const server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    try {
      const said = server.lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
      const steps = [
        'settings checked',
        `Port ${new URL(server.url).port} on 127.0.0.1 is free.`,
        `Creating a new embedded database in ${join(dataDir, 'pglite')} (a first start).`,
        `Opening the embedded database in ${join(dataDir, 'pglite')}.`,
        'the database is ready',
        `Assay is ready at ${server.url}`,
      ].map((step) => said.findIndex((msg) => msg.includes(step)));
      expect(steps.every((at) => at >= 0)).toBe(true);
      expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    } finally {
      await server.stop();
    }
  });

  it('stops at once, naming PORT, when the port is taken: before any database set-up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'assay-port-'));
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const run = spawnSync(process.execPath, [MAIN], {
        env: { ...baseEnv, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port) },
        encoding: 'utf8',
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is already in use: set PORT`);
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      taken.close();
    }
  });

  it('serves on an on-disk embedded database; SIGTERM under keep-alive load answers every request it took, closes idle connections cleanly and exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'assay-serve-'));
    const port = await freePort();
    const headers = {
      authorization: `Bearer ${mintIn(dataDir, '--account', 'acme', '--sub', 'alice')}`,
    };
    const first = await startIn(dataDir, port);
    expect((await fetch(`${first.url}/v1/runs`, { headers })).status).toBe(200);

    const idle = await idleConnections(first.url, 4);
    const load = keepAliveLoad(first.url, {
      connections: 8,
      headers,
      next: () => {
        const id = randomUUID();
        return { key: id, method: 'POST', path: '/v1/runs', body: { id } };
      },
    });
    await new Promise((r) => setTimeout(r, 500));
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    load.stop();
    const sent = await load.done;
    for (const c of idle) c.socket.destroy();

    expect(exit).toEqual({ code: 0, signal: null });
    // Idle keep-alive connections were closed by the server, not reset.
    expect(await Promise.all(idle.map((c) => c.closed))).toEqual(['end', 'end', 'end', 'end']);
    const answered = sent.filter((s) => s.status !== 0);
    expect(answered.filter((s) => s.status !== 201)).toEqual([]);
    // No request was cut off: once the server stopped, connections were refused, not reset.
    expect(sent.filter((s) => s.status === 0 && s.error !== 'ECONNREFUSED')).toEqual([]);
    // Each client's last answer told it to hang up.
    const lastOfEach = answered.filter((s) => s.startedAt + s.ms >= signalledAt).slice(-8);
    expect(lastOfEach.length).toBeGreaterThan(0);
    expect(lastOfEach.filter((s) => !s.connectionClose)).toEqual([]);

    // Restarted on the same data: every 201 is stored once, and no request left unanswered
    // was stored (the server never took it in).
    const second = await startIn(dataDir, port);
    try {
      const stored = new Set<string>();
      for (let next: string | null = '/v1/runs?limit=1000'; next;) {
        const res: Response = await fetch(`${second.url}${next}`, { headers });
        for (const r of (await res.json()) as { id: string }[]) stored.add(r.id);
        next = /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
      }
      expect(answered.filter((s) => !stored.has(s.key))).toEqual([]);
      expect(sent.filter((s) => s.status === 0 && stored.has(s.key))).toEqual([]);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toEqual({ code: 0, signal: null });
    }
  });

  it('SIGTERM does not wait for connections that never sent a whole request', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'assay-silent-'));
    const server = await startIn(dataDir, await freePort());
    const { port } = new URL(server.url);
    const open = (sent: string) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
        socket.write(sent);
      });
    const silent = await open('');
    const halfway = await open('GET /v1/runs HTTP/1.1\r\nHost: assay\r\n');
    await new Promise((r) => setTimeout(r, 200));
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    // The linger of half a second, not the 30 s allowed for requests in flight.
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    for (const socket of [silent, halfway]) socket.destroy();
  });

  it('SIGTERM to `npm start` stops the server it started: exit 0, no orphan', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'assay-npm-'));
    const npm = await startServer({ DATA_DIR: dataDir }, { command: ['npm', 'start', '--silent'] });
    const servers = serverPids(npm.child.pid!);
    expect(servers.length).toBe(1);
    npm.child.kill('SIGTERM');
    expect(await npm.exited).toEqual({ code: 0, signal: null });
    await new Promise((r) => setTimeout(r, 200));
    expect(servers.filter(alive)).toEqual([]);
    await expect(fetch(`${npm.url}/health/live`)).rejects.toThrow();
  });

  it('npm run token does not rebuild what is already built', () => {
    const built = statSync(MAIN).mtimeMs;
    const token = execFileSync(
      'npm',
      ['run', '-s', 'token', '--', '--account', 'a', '--sub', 'b'],
      {
        env: { ...baseEnv, DATA_DIR: mkdtempSync(join(tmpdir(), 'assay-token-')) },
        encoding: 'utf8',
      },
    ).trim();
    expect(token.split('.')).toHaveLength(3);
    expect(statSync(MAIN).mtimeMs).toBe(built);
  });
});

/** The node processes serving under a process tree, found through /proc. */
function serverPids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree: number[] = [];
  for (let queue = [root]; queue.length;) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(MAIN);
    } catch {
      return false;
    }
  });
}
