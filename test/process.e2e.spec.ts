import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import jwt from 'jsonwebtoken';
import { build, freePort, MAIN, startInstance } from './support/instances.js';

// The built service as a user runs it: `npm start` with nothing set, `npm run token`, SIGTERM.
const TOKEN_CLI = 'dist/src/auth/token.cli.js';
const baseEnv = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' };

function mint(dataDir: string, ...args: string[]): string {
  return execFileSync(process.execPath, [TOKEN_CLI, ...args], {
    env: { ...baseEnv, DATA_DIR: dataDir },
    encoding: 'utf8',
  }).trim();
}

const serve = (dataDir: string, port: number) =>
  startInstance({ port, env: { ...baseEnv, DATA_DIR: dataDir } });

describe('the built service', () => {
  beforeAll(build, 120_000);

  it('npm run token mints a token with the dev secret it keeps in DATA_DIR', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'assay-token-'));
    const evaluator = randomUUID();
    const token = mint(
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
    mint(dataDir, '--account', 'acme', '--sub', 'a');
    expect(readFileSync(join(dataDir, 'jwt-secret'), 'utf8').trim()).toBe(secret);

    const bad = spawnSync(process.execPath, [TOKEN_CLI, '--account', 'acme'], {
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

  it('serves on an on-disk embedded database, and SIGTERM drains requests in flight without losing any', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'assay-serve-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const headers = {
      authorization: `Bearer ${mint(dataDir, '--account', 'acme', '--sub', 'alice')}`,
      'content-type': 'application/json',
    };
    const first = await serve(dataDir, port);
    expect((await fetch(`${url}/v1/runs`, { headers })).status).toBe(200);

    const ids = Array.from({ length: 40 }, () => randomUUID());
    // status 0: the connection was refused, as the server had stopped listening.
    type Answer = { id: string; status: number; body: { id?: string } };
    const inFlight = ids.map((id) =>
      fetch(`${url}/v1/runs`, { method: 'POST', headers, body: JSON.stringify({ id }) }).then(
        async (res): Promise<Answer> => ({
          id,
          status: res.status,
          body: (await res.json()) as Answer['body'],
        }),
        (): Answer => ({ id, status: 0, body: {} }),
      ),
    );
    await new Promise((r) => setTimeout(r, 20));
    const stopped = first.stop();
    const answers = await Promise.all(inFlight);
    expect(await stopped).toBe('SIGTERM');
    // Every request the server answered got a whole answer; none failed on our side.
    expect(answers.filter((a) => a.status !== 0 && a.status !== 201)).toEqual([]);
    const accepted = answers.filter((a) => a.status === 201);
    expect(accepted.length).toBeGreaterThan(0);
    for (const a of accepted) expect(a.body.id).toBe(a.id);

    // Restarted on the same data: everything answered 201 is there.
    const second = await serve(dataDir, port);
    try {
      const stored = (await (await fetch(`${url}/v1/runs`, { headers })).json()) as {
        id: string;
      }[];
      const storedIds = new Set(stored.map((r) => r.id));
      expect(accepted.filter((a) => !storedIds.has(a.id))).toEqual([]);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
