import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, TEST_SECRET, token } from '../support/app.js';
import { PrivatePostgres } from '../support/private-postgres.js';
import { startServer, type ServerProcess } from '../support/server.js';
import { until } from '../support/until.js';

// The package as another team gets it: `npm pack`, installed into a fresh Nest app that
// brings its own Nest, TypeORM and pg, started, and asked over HTTP.
const HOST_MAIN = `
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ASSAY_ENTITIES, ASSAY_MIGRATIONS, AssayModule, configureAssayHttp } from 'assay';

class HostModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: process.env.DATABASE_URL,
      entities: [...ASSAY_ENTITIES],
      migrations: [...ASSAY_MIGRATIONS],
      migrationsRun: true,
    }),
    AssayModule.forRoot({
      auth: { secret: process.env.JWT_SECRET, accountClaim: 'account_id' },
      natsUrl: process.env.NATS_URL,
    }),
  ],
})(HostModule);

const app = await NestFactory.create(HostModule, new FastifyAdapter(), { logger: ['error'] });
configureAssayHttp(app);
// The host's own readiness route, which the test waits for.
app.getHttpAdapter().getInstance().get('/health/ready', async () => ({ ok: true }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
`;

// A service of another team that consumes Assay's events with assay/events: it prints each
// event it is handed as a JSON line.
const CONSUMER_MAIN = `
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AssayEventsTransport, EVENT_TYPES } from 'assay/events';

class RunsController {
  created(event) {
    console.log(JSON.stringify(event));
  }
}
Controller()(RunsController);
Payload()(RunsController.prototype, 'created', 0);
EventPattern('run.created')(
  RunsController.prototype,
  'created',
  Object.getOwnPropertyDescriptor(RunsController.prototype, 'created'),
);
class ConsumerModule {}
Module({ controllers: [RunsController] })(ConsumerModule);

if (!EVENT_TYPES.includes('run.created')) throw new Error('EVENT_TYPES lacks run.created');
const app = await NestFactory.createMicroservice(ConsumerModule, {
  strategy: new AssayEventsTransport({
    servers: process.env.NATS_URL,
    durable: process.env.DURABLE,
    subject: \`assay.\${process.env.ACCOUNT}.>\`,
  }),
  logger: ['error'],
});
await app.listen();
console.log('listening');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;
const NATS_URL = 'nats://127.0.0.1:4222';

/** The `npm install …` block of docs/host-app.md, as words. */
function installCommand(): string[] {
  const doc = readFileSync('docs/host-app.md', 'utf8');
  const block = /```sh\n(npm install @nestjs\/common[^`]*)```/.exec(doc);
  if (!block) throw new Error('docs/host-app.md has no `npm install @nestjs/common …` block');
  return block[1].replace(/\\\n/g, ' ').trim().split(/\s+/);
}

describe('the packed package inside a fresh Nest app', () => {
  let dir: string;
  let db: PrivatePostgres;
  let host: ServerProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'assay-host-'));
    const [{ filename }] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', dir], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as { filename: string }[];
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'host-app', private: true, type: 'module' }),
    );
    writeFileSync(join(dir, 'main.mjs'), HOST_MAIN);
    writeFileSync(join(dir, 'consumer.mjs'), CONSUMER_MAIN);
    // Exactly what docs/host-app.md says to install, then the tarball.
    const [npm, ...args] = installCommand();
    execFileSync(npm, [...args, `./${filename}`, '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      stdio: 'ignore',
    });
    db = await PrivatePostgres.start();
    host = await startServer(
      { DATABASE_URL: db.url, JWT_SECRET: TEST_SECRET, NATS_URL },
      { command: [process.execPath, join(dir, 'main.mjs')] },
    );
  }, 300_000);

  afterAll(async () => {
    if (host) {
      host.child.kill('SIGTERM');
      await host.exited;
    }
    db?.destroySync();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("installs one copy of each framework package, the host's", () => {
    const copies = execFileSync('find', ['node_modules', '-path', '*/@nestjs/core/package.json'], {
      cwd: dir,
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    expect(copies).toEqual(['node_modules/@nestjs/core/package.json']);
  });

  it('keeps no script that needs files the package lacks', () => {
    const packed = JSON.parse(
      readFileSync(join(dir, 'node_modules/assay/package.json'), 'utf8'),
    ) as { scripts?: object; bin: Record<string, string> };
    expect(packed.scripts).toBeUndefined();
    expect(packed.bin).toEqual({ assay: './dist/src/cli.js' });
  });

  it('`npx assay token` mints a token the host accepts, with the JWT settings it is given', async () => {
    const mint = (...args: string[]) =>
      execFileSync('npx', ['--no-install', 'assay', 'token', ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH, JWT_SECRET: TEST_SECRET },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    const auth = { authorization: `Bearer ${mint('--account', 'minted', '--sub', 'bob')}` };
    const created = await fetch(`${host.url}/v1/runs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'by a minted token' }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ account_id: 'minted', created_by: 'bob' });
    expect(() => mint('--account', 'minted')).toThrow(/--sub is required/);
  });

  it("serves Assay's routes with Assay's errors", async () => {
    const auth = bearer();
    const json = { ...auth, 'content-type': 'application/json' };
    const created = await fetch(`${host.url}/v1/runs`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'packed' }),
    });
    expect(created.status).toBe(201);
    const listed = await fetch(`${host.url}/v1/runs`, { headers: auth });
    expect(((await listed.json()) as { name: string }[]).map((r) => r.name)).toEqual(['packed']);

    const malformed = await fetch(`${host.url}/v1/runs`, {
      method: 'POST',
      headers: json,
      body: '{"name": ',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      error: expect.any(String),
      code: 'invalid_json',
      request_id: malformed.headers.get('x-request-id'),
    });
    const text = await fetch(`${host.url}/v1/runs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(text.status).toBe(415);
    expect((await fetch(`${host.url}/v1/runs`)).status).toBe(401);
  });

  it("consumes the host's events through NATS JetStream with assay/events", async () => {
    const account = `packed-${randomUUID()}`;
    const auth = bearer(token({ account }));
    const json = { ...auth, 'content-type': 'application/json' };
    // Makes the stream ASSAY exist before the consumer binds to it.
    await fetch(`${host.url}/v1/runs`, { method: 'POST', headers: json, body: '{}' });
    const consumer = spawn(process.execPath, [join(dir, 'consumer.mjs')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        NATS_URL,
        DURABLE: `packed-${randomUUID()}`,
        ACCOUNT: account,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    consumer.stdout.setEncoding('utf8');
    consumer.stdout.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    try {
      await until(() => lines.includes('listening'), 60_000);
      const created = await fetch(`${host.url}/v1/runs`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: 'consumed' }),
      });
      const run = (await created.json()) as { id: string };
      // The first run's event comes too: the consumer starts with what the stream holds.
      const consumed = () =>
        lines
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { data: { id: string } })
          .find((e) => e.data.id === run.id);
      await until(() => consumed() !== undefined, 60_000);
      expect(consumed()).toMatchObject({
        type: 'run.created',
        account_id: account,
        data: { id: run.id, name: 'consumed' },
      });
    } finally {
      consumer.kill('SIGTERM');
      await once(consumer, 'exit');
    }
  }, 120_000);

  // Last: it replaces the installed copy with a link to this checkout.
  it('stops at once, naming the fix, when Assay is installed as a link to a checkout', () => {
    execFileSync(
      'npm',
      ['install', '--no-save', '--offline', '--no-audit', '--no-fund', process.cwd()],
      {
        cwd: dir,
        stdio: 'ignore',
        timeout: 120_000,
      },
    );
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [join(dir, 'main.mjs')], {
        cwd: dir,
        env: { ...process.env, PORT: '0', JWT_SECRET: TEST_SECRET },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 30_000,
      });
    } catch (err) {
      failure = err as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(1);
    expect(failure?.stderr).toMatch(/Two copies of @nestjs\/core/);
    expect(failure?.stderr).toMatch(/npm install --install-links/);
  });
});
