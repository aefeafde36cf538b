import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { bearer, describeOnServers, TEST_SECRET, token } from './support/app.js';
import { answer, hang, type Received, startReceiver } from './support/receiver.js';
import { ensureBuilt, startServer } from './support/server.js';
import { until } from './support/until.js';

const idsOf = (rs: Received[]) => rs.map((r) => String(r.headers['webhook-id']));

// The built server, killed with SIGKILL while a receiver holds its POST open: nothing of
// that attempt was recorded, so the next instance makes it again once the lease runs out.
describeOnServers('webhooks when an instance is killed mid-delivery', (db) => {
  let ds: DataSource;
  beforeAll(async () => {
    ensureBuilt();
    ds = await new DataSource(
      dataSourceOptions({ DATABASE_URL: db.env.DATABASE_URL, DATA_DIR: '' }),
    ).initialize();
    await ds.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  }, 180_000);
  afterAll(() => ds?.destroy());

  it('delivers every event, the interrupted one again with the same webhook-id', async () => {
    const env = {
      DATABASE_URL: db.env.DATABASE_URL,
      JWT_SECRET: TEST_SECRET,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_RETRY_SCHEDULE: '300ms',
      WEBHOOK_TIMEOUT: '3000',
    };
    const receiver = await startReceiver();
    receiver.behave(hang);
    const first = await startServer(env);
    let second: Awaited<ReturnType<typeof startServer>> | undefined;
    try {
      const account = `killed-${randomUUID()}`;
      const auth = bearer(token({ account }));
      const http = request(first.url);
      const hook = await http
        .post('/v1/webhooks')
        .set(auth)
        .send({ url: receiver.url, event_types: ['run.created'] });
      expect(hook.status).toBe(201);
      for (let i = 0; i < 20; i++) {
        expect((await http.post('/v1/runs').set(auth).send({})).status).toBe(201);
      }
      await until(() => receiver.received.length >= 1, 30_000);
      await first.stop('SIGKILL');
      const [{ tried }] = await ds.query<{ tried: number }[]>(
        'SELECT count(*)::int AS tried FROM webhook_attempts',
      );
      expect(tried).toBe(0);

      receiver.behave(answer(204));
      second = await startServer(env);
      let events: { id: string }[] = [];
      await until(async () => {
        events = (
          await request(second!.url).get('/v1/events').set(auth).set('Accept', 'application/json')
        ).body as { id: string }[];
        return events.length >= 20;
      });
      await until(() => new Set(idsOf(receiver.received)).size >= 20, 60_000);
      const ids = idsOf(receiver.received);
      expect(ids[0]).toBe(events[0].id);
      expect(ids[1]).toBe(events[0].id);
      expect([...new Set(ids)]).toEqual(events.map((e) => e.id));
      expect(receiver.received).toHaveLength(21);
    } finally {
      await first.stop('SIGKILL');
      await second?.stop();
    }
  }, 120_000);
});
