import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { TEST_SECRET, token } from './support/app.js';
import { ensureBuilt, type ServerProcess, startServer } from './support/server.js';
import { sample } from './support/metrics.js';
import { redisClient, SHARED_REDIS_URL } from './support/redis.js';
import { describeWith } from './support/services.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL;
const LIMIT = 100;

/** One call to an instance, as any client would make it. */
async function call(
  instance: ServerProcess,
  account: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${instance.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token({ account })}`,
      'content-type': 'application/json',
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    replayed: res.headers.get('idempotent-replayed'),
  };
}

// Several instances on one PostgreSQL database and one Redis, as behind a load balancer.
// The embedded database belongs to one process, so this needs the server.
(DATABASE_URL ? describeWith('Redis') : describe.skip)(
  'two instances on one database and one Redis',
  () => {
    const prefix = `assay-test-${randomUUID()}:`;
    let fleet: ServerProcess[] = [];

    beforeAll(async () => {
      ensureBuilt();
      const ds = await new DataSource(
        dataSourceOptions({ DATABASE_URL, DATA_DIR: '' }),
      ).initialize();
      await ds.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
      await ds.destroy();
      const env = {
        DATABASE_URL: DATABASE_URL!,
        JWT_SECRET: TEST_SECRET,
        LOG_LEVEL: 'warn',
        REDIS_URL: SHARED_REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        RATE_LIMIT: String(LIMIT),
        RATE_LIMIT_WINDOW: '300',
      };
      // Started together on an empty database: both run the migrations at once.
      fleet = await Promise.all([startServer(env), startServer(env)]);
    });

    afterAll(async () => {
      await Promise.all(fleet.map((i) => i.stop()));
      const redis = redisClient(SHARED_REDIS_URL);
      await redis.connect();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });

    it('both start on one empty database and serve the same data', async () => {
      const [a, b] = fleet;
      const account = `acme-${randomUUID()}`;
      const run = await call(a, account, 'POST', '/v1/runs', { name: 'shared' });
      expect(run.status).toBe(201);
      const read = await call(b, account, 'GET', `/v1/run/${String(run.body.id)}`);
      expect([read.status, read.body]).toEqual([200, run.body]);
    });

    it('holds the rate limit in total across both instances', async () => {
      const account = `acme-${randomUUID()}`;
      const before = await Promise.all(
        fleet.map(async (i) =>
          sample(await (await fetch(`${i.url}/metrics`)).text(), 'assay_rate_limit_refusals_total'),
        ),
      );
      // 1.5 × the limit, half to each instance, all at once.
      const answers = await Promise.all(
        Array.from({ length: LIMIT * 1.5 }, (_, n) =>
          call(fleet[n % 2], account, 'GET', '/v1/runs'),
        ),
      );
      const count = (status: number) => answers.filter((a) => a.status === status).length;
      // An instance that took Redis for slow would have counted alone for a while.
      for (const i of fleet) expect(i.lines.join('\n')).not.toContain('Redis does not answer');
      expect([count(200), count(429)]).toEqual([LIMIT, LIMIT / 2]);
      const after = await Promise.all(
        fleet.map(async (i) => {
          const text = await (await fetch(`${i.url}/metrics`)).text();
          expect(sample(text, 'assay_rate_limit_shared')).toBe(1);
          return sample(text, 'assay_rate_limit_refusals_total');
        }),
      );
      expect(after[0] + after[1] - before[0] - before[1]).toBe(LIMIT / 2);
    });

    it('keeps every history whole under concurrent updates of one evaluation across both', async () => {
      const account = `acme-${randomUUID()}`;
      const [a, b] = fleet;
      const label = await call(a, account, 'POST', '/v1/evaluation-labels', {
        name: 'score',
        value_type: 'continuous',
        min_value: 0,
        max_value: 1000,
      });
      const run = await call(b, account, 'POST', '/v1/runs', {});
      const created = await call(a, account, 'POST', `/v1/run/${String(run.body.id)}/evaluations`, {
        evaluation_label_id: label.body.id,
        value: 0,
      });
      expect(created.status).toBe(201);
      const path = `/v1/run/${String(run.body.id)}/evaluation/${String(created.body.id)}`;
      const values = Array.from({ length: 60 }, (_, n) => n + 1);
      const answers = await Promise.all(
        values.map((value) => call(fleet[value % 2], account, 'PUT', path, { value })),
      );
      expect(answers.filter((r) => r.status !== 200)).toEqual([]);

      const history = await call(b, account, 'GET', `${path}/history`);
      const changes = history.body as unknown as {
        operation: string;
        old_value: number | null;
        new_value: number;
      }[];
      expect(changes.map((c) => c.operation)).toEqual(['create', ...values.map(() => 'update')]);
      // One record per acknowledged update, each replacing exactly the value before it.
      for (let n = 1; n < changes.length; n++) {
        expect(changes[n].old_value).toBe(changes[n - 1].new_value);
      }
      expect(
        changes
          .slice(1)
          .map((c) => c.new_value)
          .sort((x, y) => x - y),
      ).toEqual(values);
      const final = await call(a, account, 'GET', path);
      expect(final.body.value).toBe(changes[changes.length - 1].new_value);
    });

    it('makes one effect of one Idempotency-Key sent to both instances at once', async () => {
      const account = `acme-${randomUUID()}`;
      const label = await call(fleet[0], account, 'POST', '/v1/evaluation-labels', {
        name: 'correct',
        value_type: 'binary',
      });
      const run = await call(fleet[1], account, 'POST', '/v1/runs', {});
      const path = `/v1/run/${String(run.body.id)}/evaluations`;
      const body = { evaluation_label_id: label.body.id, value: 1 };
      const key = { 'Idempotency-Key': randomUUID() };
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, n) => call(fleet[n % 2], account, 'POST', path, body, key)),
      );
      // Each waits for the first and answers what it answered: never a second effect.
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
      const created = answers;
      expect(new Set(created.map((a) => a.body.id)).size).toBe(1);
      expect(answers.filter((a) => a.replayed !== 'true')).toHaveLength(1);
      const again = await call(fleet[1], account, 'POST', path, body, key);
      expect([again.status, again.body.id, again.replayed]).toEqual([
        201,
        created[0].body.id,
        'true',
      ]);
      const list = await call(fleet[0], account, 'GET', path);
      expect((list.body as unknown as unknown[]).length).toBe(1);
    });

    // A fall back to memory is a warning, not an error: on an overloaded machine an event loop
    // late by more than the Redis timeout makes one, and the limit then holds per instance.
    it('logs no error on either instance', () => {
      for (const i of fleet) expect(i.lines.join('\n')).not.toMatch(/"level":(50|60)/);
    });
  },
);
