import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApp } from '../src/app.factory.js';
import {
  bearer,
  DATABASES,
  describeOnServers,
  startApp,
  TEST_SECRET,
  type TestApp,
  testSettings,
  token,
} from './support/app.js';
import { createLabel, createRun } from './support/factories.js';
import { ensureBuilt, startServer } from './support/server.js';
import { describeWith } from './support/services.js';
import { until } from './support/until.js';

const MACHINE_NATS = 'nats://127.0.0.1:4222';

/** The settings a built server needs to share the specs' database and secret. */
const testSettingsEnv = (db: (typeof DATABASES)[number]) => ({
  ...db.env,
  JWT_SECRET: TEST_SECRET,
  LOG_LEVEL: 'silent',
});

interface Event {
  id: string;
  type: string;
  data: { id: string; value?: number };
  /** The subject it came on. */
  subject?: string;
}

/**
 * Every message published on an account's subjects, as core NATS sees them (duplicates
 * too). `subjectAccount` is the account as a subject carries it (plain accounts as they are).
 */
function watch(nc: NatsConnection, subjectAccount: string): Event[] {
  const seen: Event[] = [];
  const sub = nc.subscribe(`assay.${subjectAccount}.>`);
  void (async () => {
    for await (const m of sub) seen.push({ ...m.json<Event>(), subject: m.subject });
  })();
  return seen;
}

/** What the stream ASSAY kept for an account, in stream order. */
async function stored(
  nc: NatsConnection,
  subjectAccount: string,
  expected: number,
): Promise<Event[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get('ASSAY', {
    filter_subjects: `assay.${subjectAccount}.>`,
  });
  const out: Event[] = [];
  const deadline = Date.now() + 15_000;
  while (out.length < expected && Date.now() < deadline) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
    for await (const m of batch) out.push(m.json<Event>());
  }
  return out;
}

async function unsent(t: TestApp): Promise<number> {
  const [{ n }] = await t.dataSource.query<{ n: number }[]>(
    `SELECT coalesce(sum(count - coalesce(cardinality(relayed), 0)), 0)::int AS n
       FROM outbox_writes WHERE sent_at IS NULL`,
  );
  return n;
}

/** Writes that make events: a label, a run, evaluations, and an update of each. */
async function writes(http: TestApp['http'], auth: ReturnType<typeof bearer>, evaluations: number) {
  const label = await createLabel(http, {}, auth);
  const run = await createRun(http, {}, auth);
  const ids: string[] = [];
  for (let i = 0; i < evaluations; i++) {
    const res = await http
      .post(`/v1/run/${run.id}/evaluations`)
      .set(auth)
      .send({ evaluation_label_id: label.id, value: i % 5 });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  for (const id of ids) {
    await http.put(`/v1/run/${run.id}/evaluation/${id}`).set(auth).send({ value: 5 });
  }
  return 2 + 2 * evaluations;
}

function expectOncePerIdInOrder(events: Event[], count: number): void {
  expect(events).toHaveLength(count);
  expect(new Set(events.map((e) => e.id)).size).toBe(count);
  const perEvaluation = new Map<string, string[]>();
  for (const e of events.filter((x) => x.type.startsWith('evaluation.'))) {
    perEvaluation.set(e.data.id, [...(perEvaluation.get(e.data.id) ?? []), e.type]);
  }
  // Created first, then its updates: the order they were committed in.
  for (const types of perEvaluation.values()) {
    expect(types).toEqual([
      'evaluation.created',
      ...types.slice(1).map(() => 'evaluation.updated'),
    ]);
  }
}

describeWith('NATS').each(DATABASES)('NATS JetStream relay on $name', (db) => {
  let t: TestApp;
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: MACHINE_NATS });
    t = await startApp(db, { NATS_URL: MACHINE_NATS });
  });
  afterAll(async () => {
    await t.close();
    await nc.close();
  });

  it('publishes every event exactly once, on assay.<account>.<type>, in order per resource', async () => {
    const id = randomUUID();
    const account = `team.a*b>c \t\u00a0%${id}`;
    // What a subject token cannot carry, percent-encoded as UTF-8 bytes.
    const encoded = `team%2Ea%2Ab%3Ec%20%09%C2%A0%25${id}`;
    const seen = watch(nc, encoded);
    const count = await writes(t.http, bearer(token({ account })), 10);
    await until(async () => (await unsent(t)) === 0 && seen.length >= count);
    expectOncePerIdInOrder(seen, count);
    expect(seen.map((e) => e.subject)).toEqual(seen.map((e) => `assay.${encoded}.${e.type}`));
    expectOncePerIdInOrder(await stored(nc, encoded, count), count);
  });
});

describeOnServers(
  'NATS relay under faults on $name',
  (db) => {
    it('two instances relay together without sending an event twice', async () => {
      const nc = await connect({ servers: MACHINE_NATS });
      const t = await startApp(db, { NATS_URL: MACHINE_NATS });
      const second: NestFastifyApplication = await createApp(
        testSettings(db, { NATS_URL: MACHINE_NATS }),
      );
      try {
        const accounts = [`two-a-${randomUUID()}`, `two-b-${randomUUID()}`];
        const seen = accounts.map((a) => watch(nc, a));
        const counts = await Promise.all([
          writes(t.http, bearer(token({ account: accounts[0] })), 20),
          writes(request(second.getHttpServer()), bearer(token({ account: accounts[1] })), 20),
        ]);
        await until(async () => (await unsent(t)) === 0);
        await new Promise((r) => setTimeout(r, 300));
        seen.forEach((s, i) => expectOncePerIdInOrder(s, counts[i]));
      } finally {
        await second.close();
        await t.close();
        await nc.close();
      }
    });

    it('loses nothing when an instance is killed with SIGKILL mid-relay', async () => {
      ensureBuilt();
      const t = await startApp(db);
      const nc = await connect({ servers: MACHINE_NATS });
      const account = `killed-${randomUUID()}`;
      const serve = () => startServer({ ...testSettingsEnv(db), NATS_URL: MACHINE_NATS });
      const first = await serve();
      try {
        const auth = bearer(token({ account }));
        const http = request(first.url);
        const count = await writes(http, auth, 5);
        const run = await createRun(http, {}, auth);
        const label = await createLabel(http, {}, auth);
        const burst = await http
          .post('/v1/evaluations/batch')
          .set(auth)
          .send({
            items: Array.from({ length: 500 }, () => ({
              run_id: run.id,
              evaluation_label_id: label.id,
              value: 1,
            })),
          });
        expect(burst.status).toBe(201);
        // Killed while it still has events to relay: no shutdown, no chance to finish.
        await first.stop('SIGKILL');
        expect(await unsent(t)).toBeGreaterThan(0);
        const second = await serve();
        try {
          await until(async () => (await unsent(t)) === 0);
          const total = count + 2 + 500;
          expectOncePerIdInOrder(await stored(nc, account, total), total);
        } finally {
          await second.stop();
        }
      } finally {
        await first.stop('SIGKILL');
        await nc.close();
        await t.close();
      }
    });

    it('loses nothing through a broker outage, and writes never wait for the broker', async () => {
      const port = 14000 + Math.floor(Math.random() * 1000);
      const store = mkdtempSync(join(tmpdir(), 'assay-nats-'));
      const url = `nats://127.0.0.1:${port}`;
      const start = () =>
        spawn(
          '/usr/sbin/nats-server',
          ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store],
          {
            stdio: 'ignore',
          },
        );
      const ready = async () => {
        await until(async () => {
          try {
            await (await connect({ servers: url, reconnect: false })).close();
            return true;
          } catch {
            return false;
          }
        });
      };
      let broker: ChildProcess = start();
      await ready();
      const t = await startApp(db, { NATS_URL: url });
      try {
        const account = `outage-${randomUUID()}`;
        const auth = bearer(token({ account }));
        const before = await writes(t.http, auth, 5);
        await until(async () => (await unsent(t)) === 0);
        broker.kill('SIGKILL');
        const started = Date.now();
        const during = await writes(t.http, auth, 10);
        // 22 writes while the broker is gone: none of them waited for it.
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(await unsent(t)).toBeGreaterThan(0);
        broker = start();
        await ready();
        await until(async () => (await unsent(t)) === 0);
        const nc = await connect({ servers: url });
        try {
          expectOncePerIdInOrder(await stored(nc, account, before + during), before + during);
        } finally {
          await nc.close();
        }
      } finally {
        await t.close();
        broker.kill('SIGKILL');
        rmSync(store, { recursive: true, force: true });
      }
    });
  },
  describeWith('NATS'),
);
