import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource, EntityManager } from 'typeorm';
import { createApp } from '../src/app.factory.js';
import { bearer, DATABASES, startApp, type TestApp, testSettings, token } from './support/app.js';
import {
  assignPositions,
  eventsAfter,
  type LeasedEvent,
  leaseUnsent,
  markSent,
  positionOf,
  purgeOldEvents,
} from '../src/events/event-store.js';
import { outboxInsert } from '../src/events/outbox.js';
import { createEvaluation, createLabel, createRun, scoredRun } from './support/factories.js';

interface Event {
  id: string;
  type: string;
  account_id: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

/** Polls until `check` holds (events get their positions a moment after commit). */
export async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The blocks of outbox_writes that `work` reads, in a transaction of its own; the table is
 * first checked to hold well more than that, dead row versions included. (Counts not yet
 * reported add up across transactions, so the work's own are a difference.)
 */
async function outboxBlocksRead(
  db: DataSource,
  work: (tx: EntityManager) => Promise<unknown>,
): Promise<number> {
  const [{ pages }] = await db.query<{ pages: number }[]>(
    `SELECT pg_relation_size('outbox_writes')::int / current_setting('block_size')::int AS pages`,
  );
  expect(pages).toBeGreaterThan(80);
  return db.transaction(async (tx) => {
    const read = async () => {
      const [{ blocks }] = await tx.query<{ blocks: number }[]>(
        `SELECT pg_stat_get_xact_blocks_fetched('outbox_writes'::regclass)::int AS blocks`,
      );
      return blocks;
    };
    const before = await read();
    await work(tx);
    return (await read()) - before;
  });
}

/** A Server-Sent Events client over a plain socket: what a browser's EventSource would see. */
class SseClient {
  readonly events: Event[] = [];
  readonly ids: string[] = [];
  /** The stream as it came, comments too. */
  raw = '';
  contentType?: string;
  private req?: http.ClientRequest;

  constructor(
    private readonly port: number,
    private readonly headers: Record<string, string>,
  ) {}

  open(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.req = http.get(
        { port: this.port, host: '127.0.0.1', path: '/v1/events', headers: this.headers },
        (res) => {
          let buffer = '';
          this.contentType = res.headers['content-type'];
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            this.raw += chunk;
            buffer += chunk;
            let end;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const message = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = /^data: (.*)$/m.exec(message)?.[1];
              const id = /^id: (.*)$/m.exec(message)?.[1];
              if (data && id) {
                this.events.push(JSON.parse(data) as Event);
                this.ids.push(id);
              }
            }
          });
          resolve(res.statusCode ?? 0);
        },
      );
      this.req.on('error', reject);
    });
  }

  close(): void {
    this.req?.destroy();
  }
}

describe.each(DATABASES)('change events on $name', (db) => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startApp(db);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  const page = (auth: ReturnType<typeof bearer>, query = '') =>
    t.http.get(`/v1/events${query}`).set(auth).set('Accept', 'application/json');

  it('records every change in the transaction that made it, for its own account only', async () => {
    const account = `acct-${randomUUID()}`;
    const auth = bearer(token({ account }));
    const label = await createLabel(t.http, {}, auth);
    const run = await createRun(t.http, {}, auth);
    const e = await createEvaluation(
      t.http,
      run.id,
      { evaluation_label_id: label.id, value: 1 },
      auth,
    );
    const path = `/v1/run/${run.id}/evaluation/${e.id}`;
    await t.http.put(path).set(auth).send({ value: 3 });
    // A refused write leaves no event.
    expect((await t.http.put(path).set(auth).send({ value: 30 })).status).toBe(422);
    await t.http.delete(path).set(auth);
    await t.http.delete(`/v1/run/${run.id}`).set(auth);

    const res = await eventually(
      () => page(auth),
      (r) => r.body.length >= 6,
    );
    expect(res.status).toBe(200);
    const events = res.body as Event[];
    expect(events.map((x) => x.type)).toEqual([
      'label.created',
      'run.created',
      'evaluation.created',
      'evaluation.updated',
      'evaluation.deleted',
      'run.deleted',
    ]);
    expect(events.every((x) => x.account_id === account)).toBe(true);
    // The evaluation as the API answered it, with the label version it was checked against.
    expect(events[2].data).toEqual({ ...e, label_version: 1 });
    expect(events[3].data).toMatchObject({ id: e.id, value: 3, old_value: 1 });
    expect(new Set(events.map((x) => x.id)).size).toBe(6);
    // UUIDv7, in the order the events were made.
    expect(events.every((x) => x.id[14] === '7')).toBe(true);
    expect([...events.map((x) => x.id)].sort()).toEqual(events.map((x) => x.id));

    const other = await page(bearer(token({ account: `other-${randomUUID()}` })));
    expect(other.body).toEqual([]);
  });

  it("carries a batch's evaluations exactly as the API answered them, in order", async () => {
    const account = `acct-${randomUUID()}`;
    const auth = bearer(token({ account }));
    const evaluator = await t.http
      .post('/v1/evaluators')
      .set(auth)
      .send({ name: 'judge', kind: 'llm_judge' })
      .expect(201);
    const judge = bearer(token({ account, evaluator: evaluator.body.id as string }));
    const label = await createLabel(t.http, {}, auth);
    const run = await createRun(t.http, { outputs: { answer: { text: 'x' } } }, auth);
    const items = [0.1, 4.75, 1e-7, 3].map((value, i) => ({
      run_id: run.id,
      evaluation_label_id: label.id,
      value,
      ...(i % 2 ? { output_name: 'answer', field_path: '$.text' } : {}),
    }));
    const batch = await t.http.post('/v1/evaluations/batch').set(judge).send({ items });
    expect(batch.status).toBe(201);
    const res = await eventually(
      () => page(auth),
      (r) => r.body.length >= 7,
    );
    const created = (res.body as Event[]).filter((x) => x.type === 'evaluation.created');
    expect(created.map((x) => x.data)).toEqual(
      batch.body.map((e: object) => ({ ...e, label_version: 1 })),
    );
    const single = await createEvaluation(
      t.http,
      run.id,
      { evaluation_label_id: label.id, value: 2.5, output_name: 'answer' },
      judge,
    );
    const again = await eventually(
      () => page(auth),
      (r) => r.body.length >= 8,
    );
    expect((again.body as Event[]).at(-1)!.data).toEqual({ ...single, label_version: 1 });
  });

  it('pages with ?after and a Link to the next page', async () => {
    const auth = bearer(token({ account: `acct-${randomUUID()}` }));
    for (let i = 0; i < 5; i++) await createRun(t.http, { name: `r${i}` }, auth);
    await eventually(
      () => page(auth),
      (r) => r.body.length === 5,
    );
    const first = await page(auth, '?limit=2');
    expect(first.body.map((x: Event) => x.data.name)).toEqual(['r0', 'r1']);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.link)![1];
    const second = await t.http.get(next).set(auth).set('Accept', 'application/json');
    expect(second.body.map((x: Event) => x.data.name)).toEqual(['r2', 'r3']);
    const rest = await page(auth, `?after=${second.body[1].id}`);
    expect(rest.body.map((x: Event) => x.data.name)).toEqual(['r4']);
    expect(rest.headers.link).toBeUndefined();
    for (const bad of ['?after=nope', `?after=${randomUUID()}`, '?limit=0', '?limit=1001']) {
      const res = await page(auth, bad);
      expect(res.status).toBe(400);
    }
  });

  it('answers 100 events a page unless asked for up to 1000', async () => {
    const account = `acct-${randomUUID()}`;
    const events = Array.from({ length: 1001 }, (_, n) => ({ type: 'check.made', data: { n } }));
    const { sql, params } = outboxInsert(account, events, 1);
    await t.dataSource.query(sql, params);
    const auth = bearer(token({ account }));
    const all = await eventually(
      () => page(auth, '?limit=1000'),
      (r) => r.body.length === 1000,
    );
    expect(all.body.map((e: Event) => e.data.n)).toEqual(
      events.slice(0, 1000).map((e) => e.data.n),
    );
    expect(all.headers.link).toContain(`after=${all.body[999].id}`);
    const first = await page(auth);
    expect(first.body).toEqual(all.body.slice(0, 100));
    expect(first.headers.link).toContain(`after=${all.body[99].id}`);
  });

  it('streams live, and resumes after Last-Event-ID with exactly the missed events', async () => {
    const account = `acct-${randomUUID()}`;
    const auth = bearer(token({ account }));
    const live = new SseClient(port, { ...auth, Accept: 'text/event-stream' });
    expect(await live.open()).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    const label = await createLabel(t.http, {}, auth);
    const run = await createRun(t.http, {}, auth);
    await eventually(
      () => Promise.resolve(live.events.length),
      (n) => n >= 2,
    );
    live.close();
    const missed: string[] = [];
    for (let i = 0; i < 3; i++) {
      missed.push(
        (await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: i }, auth))
          .id,
      );
    }
    const resumed = new SseClient(port, {
      ...auth,
      Accept: 'text/event-stream',
      'Last-Event-ID': live.ids[live.ids.length - 1],
    });
    expect(await resumed.open()).toBe(200);
    await eventually(
      () => Promise.resolve(resumed.events.length),
      (n) => n >= 3,
    );
    await createRun(t.http, { name: 'after' }, auth);
    await eventually(
      () => Promise.resolve(resumed.events.length),
      (n) => n >= 4,
    );
    await new Promise((r) => setTimeout(r, 300));
    resumed.close();
    expect(live.events.map((x) => x.type)).toEqual(['label.created', 'run.created']);
    expect(resumed.events.map((x) => x.type)).toEqual([
      'evaluation.created',
      'evaluation.created',
      'evaluation.created',
      'run.created',
    ]);
    expect(resumed.events.slice(0, 3).map((x) => x.data.id)).toEqual(missed);
    expect(resumed.ids).toEqual(resumed.events.map((x) => x.id));
  });

  // Once: it waits for the comment in real time, and the database plays no part in it.
  const KEEP_ALIVE_MS = 15_000;
  (db.name === 'PGlite' ? it : it.skip)(
    'keeps a quiet stream open with a comment line every 15 s',
    async () => {
      const auth = bearer(token({ account: `acct-${randomUUID()}` }));
      const quiet = new SseClient(port, { ...auth, Accept: 'text/event-stream' });
      expect(await quiet.open()).toBe(200);
      await new Promise((r) => setTimeout(r, KEEP_ALIVE_MS - 2000));
      expect(quiet.raw).toBe(': connected\n\n');
      await new Promise((r) => setTimeout(r, 3000));
      quiet.close();
      expect(quiet.raw).toBe(': connected\n\n: keep-alive\n\n');
    },
    KEEP_ALIVE_MS + 10_000,
  );

  it('positions every committed event once, in each write’s order, with sequencers racing', async () => {
    const account = `acct-${randomUUID()}`;
    // A writer's transaction adds five outbox rows of four events each.
    const write = (w: number) =>
      t.dataSource.transaction(async (tx) => {
        for (let r = 0; r < 5; r++) {
          const events = Array.from({ length: 4 }, (_, i) => ({
            type: 'check.made',
            data: { w, n: r * 4 + i + 1 },
          }));
          const { sql, params } = outboxInsert(account, events, 1);
          await tx.query(sql, params);
        }
      });
    // Writes and sequencers side by side (the app's own pump is one more).
    await Promise.all([
      ...Array.from({ length: 10 }, (_, w) => write(w)),
      ...Array.from({ length: 10 }, () => assignPositions(t.dataSource)),
    ]);
    const events = await eventually(
      () => eventsAfter(t.dataSource, account, '0', 1000),
      (r) => r.length === 200,
    );
    expect(events).toHaveLength(200);
    expect(new Set(events.map((e) => e.position)).size).toBe(200);
    expect(new Set(events.map((e) => e.id)).size).toBe(200);
    for (let w = 0; w < 10; w++) {
      const own = events.map((e) => e.data as { w: number; n: number }).filter((d) => d.w === w);
      expect(own.map((d) => d.n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
    // Every event is found again by its id, at its position.
    for (const e of events.slice(0, 40)) {
      expect(await positionOf(t.dataSource, account, e.id.toUpperCase())).toBe(e.position);
    }
    expect(await positionOf(t.dataSource, account, randomUUID())).toBeNull();
    // A page may start in the middle of a write's events.
    const after = await eventsAfter(t.dataSource, account, events[5].position, 3);
    expect(after.map((e) => e.id)).toEqual(events.slice(6, 9).map((e) => e.id));
  });

  /** `count` writes of one event each, straight into the outbox, given positions or not. */
  const insertWrites = (account: string, count: number, positioned: boolean) =>
    t.dataSource.query(
      `INSERT INTO outbox_writes (account_id, first_id, last_id, count, occurred_at, events${positioned ? ', last_position' : ''})
       SELECT $1, u, u, 1, now(), json_build_array(json_build_object('id', u, 'type', 'check.made', 'data', '{}'::json))
              ${positioned ? ", nextval('outbox_positions')" : ''}
         FROM (SELECT gen_random_uuid() AS u FROM generate_series(1, $2::int)) AS g`,
      [account, count],
    );
  /** Until the app's sequencer has positioned every write. */
  const allPositioned = () =>
    eventually(
      () =>
        t.dataSource.query<unknown[]>('SELECT 1 FROM outbox_writes WHERE last_position IS NULL'),
      (r) => r.length === 0,
    );

  it('positions a backlog the statistics did not foresee, a round at a time', async () => {
    const account = `acct-${randomUUID()}`;
    // Statistics taken on a table of positioned writes, while none waits: the plan then
    // expects next to none.
    await insertWrites(account, 2000, true);
    await allPositioned();
    await t.dataSource.query('VACUUM ANALYZE outbox_writes');
    await insertWrites(account, 20_000, false);
    const [{ waiting }] = await eventually(
      () =>
        t.dataSource.query<{ waiting: number }[]>(
          'SELECT count(*)::int AS waiting FROM outbox_writes WHERE last_position IS NULL',
        ),
      (r) => r[0].waiting === 0,
    );
    expect(waiting).toBe(0);
  });

  it('passes the writes it positioned before by their index entries, not their rows', async () => {
    await insertWrites(`acct-${randomUUID()}`, 3000, false);
    await allPositioned();
    // Each positioned write left a dead row version behind (no vacuum since). A round that
    // passes them marks their index entries, so that the rounds after read none of them.
    const round = () => outboxBlocksRead(t.dataSource, (tx) => assignPositions(tx));
    await round();
    await round();
    expect(await round()).toBeLessThan(20);
  });

  it('passes the writes relayed before by their index entries, not their rows', async () => {
    await insertWrites(`acct-${randomUUID()}`, 3000, true);
    // Relayed, as a broker's acknowledgements would leave them: a dead version each.
    await t.dataSource.query('UPDATE outbox_writes SET sent_at = now() WHERE sent_at IS NULL');
    const round = () =>
      outboxBlocksRead(t.dataSource, async (tx) => {
        expect(await leaseUnsent(tx, 100)).toEqual([]);
      });
    await round();
    await round();
    expect(await round()).toBeLessThan(20);
  });

  it('relays what the broker acknowledged of a write once, and the rest after', async () => {
    const account = `acct-${randomUUID()}`;
    for (const names of [
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]) {
      const events = names.map((n) => ({ type: 'check.made', data: { n } }));
      const { sql, params } = outboxInsert(account, events, 1);
      await t.dataSource.query(sql, params);
    }
    await eventually(
      () => eventsAfter(t.dataSource, account, '0', 10),
      (r) => r.length === 5,
    );
    // This app has no NATS_URL: nothing relays but this test, once older events are out of the way.
    await t.dataSource.query(
      'UPDATE outbox_writes SET sent_at = now() WHERE account_id <> $1 AND sent_at IS NULL',
      [account],
    );
    const names = (leased: LeasedEvent[]) => leased.map((e) => (e.data as { n: string }).n);
    // Two events' worth leases the first write whole, and not the second.
    await t.dataSource.transaction(async (tx) => {
      const leased = await leaseUnsent(tx, 2);
      expect(names(leased)).toEqual(['a', 'b', 'c']);
      await markSent(tx, [leased[0], leased[2]]);
    });
    await t.dataSource.transaction(async (tx) => {
      const leased = await leaseUnsent(tx, 100);
      expect(names(leased)).toEqual(['b', 'd', 'e']);
      await markSent(tx, leased);
    });
    expect(await t.dataSource.transaction((tx) => leaseUnsent(tx, 100))).toEqual([]);
    const rows = await t.dataSource.query<{ sent: boolean; relayed: unknown }[]>(
      'SELECT sent_at IS NOT NULL AS sent, relayed FROM outbox_writes WHERE account_id = $1',
      [account],
    );
    expect(rows).toEqual([
      { sent: true, relayed: null },
      { sent: true, relayed: null },
    ]);
  });

  /** The outbox rows of an account, oldest first. */
  const writesOf = async (account: string) =>
    (
      await t.dataSource.query<{ seq: string }[]>(
        'SELECT seq::text FROM outbox_writes WHERE account_id = $1 ORDER BY seq',
        [account],
      )
    ).map((r) => r.seq);

  /** Three writes of one event each (a, b, c) for a new account, once they have positions. */
  async function threeWrites() {
    const account = `acct-${randomUUID()}`;
    for (const n of ['a', 'b', 'c']) {
      const { sql, params } = outboxInsert(account, [{ type: 'check.made', data: { n } }], 1);
      await t.dataSource.query(sql, params);
    }
    const events = await eventually(
      () => eventsAfter(t.dataSource, account, '0', 10),
      (r) => r.length === 3,
    );
    const seqs = await writesOf(account);
    const age = (seq: string, days: number) =>
      t.dataSource.query(
        `UPDATE outbox_writes SET occurred_at = now() - make_interval(days => $2) WHERE seq = $1`,
        [seq, days],
      );
    return { account, events, seqs, age };
  }

  it('forgets events past retention, but never one the relay has yet to send', async () => {
    const { account, events, seqs, age } = await threeWrites();
    await age(seqs[0], 8);
    await age(seqs[1], 8);
    await t.dataSource.query(
      'UPDATE outbox_writes SET sent_at = now() WHERE seq = ANY($1::bigint[])',
      [[seqs[0], seqs[2]]],
    );
    const auth = bearer(token({ account }));
    const kept = async () => (await page(auth)).body.map((e: Event) => e.data.n);

    // With a relay: the old write it sent goes; the old one it has yet to send stays.
    expect(await purgeOldEvents(t.dataSource, 7, true)).toBe(1);
    expect(await kept()).toEqual(['b', 'c']);
    // A week and a day is within a retention of nine days.
    expect(await purgeOldEvents(t.dataSource, 9, false)).toBe(0);
    // Without a relay, nothing waits to be sent.
    expect(await purgeOldEvents(t.dataSource, 7, false)).toBe(1);
    expect(await kept()).toEqual(['c']);

    for (const res of [
      await page(auth, `?after=${events[0].id}`),
      await t.http
        .get('/v1/events')
        .set(auth)
        .set('Accept', 'text/event-stream')
        .set('Last-Event-ID', events[1].id),
    ]) {
      expect([res.status, res.body.code]).toEqual([400, 'invalid_cursor']);
      expect(res.body.error).toContain('EVENTS_RETENTION_DAYS');
    }
  });

  (db.env.DATABASE_URL ? it : it.skip)(
    'an instance purges past EVENTS_RETENTION_DAYS as set, as it starts',
    async () => {
      const { account, seqs, age } = await threeWrites();
      await age(seqs[0], 4);
      await age(seqs[1], 2);
      const other = await createApp(testSettings(db, { EVENTS_RETENTION_DAYS: '3' }));
      try {
        const left = await eventually(
          () => writesOf(account),
          (r) => r.length < 3,
        );
        expect(left).toEqual(seqs.slice(1));
      } finally {
        await other.close();
      }
    },
  );

  it('negotiates Accept with its q-values: */* or none gets the page, text/event-stream the stream', async () => {
    const auth = bearer(token({ account: `acct-${randomUUID()}` }));
    await createRun(t.http, {}, auth);
    await eventually(
      () => page(auth),
      (r) => r.body.length === 1,
    );
    for (const accept of [undefined, '*/*', 'application/*', 'text/event-stream;q=0.5, */*']) {
      const req = t.http.get('/v1/events').set(auth);
      const res = await (accept === undefined ? req : req.set('Accept', accept));
      expect([accept, res.status, res.headers['content-type'], res.body.length]).toEqual([
        accept,
        200,
        'application/json; charset=utf-8',
        1,
      ]);
    }
    for (const accept of [
      'text/event-stream',
      'text/*',
      'application/json;q=0.5, text/event-stream',
    ]) {
      const sse = new SseClient(port, { ...auth, Accept: accept });
      const status = await sse.open();
      expect([accept, status, sse.contentType]).toEqual([
        accept,
        200,
        'text/event-stream; charset=utf-8',
      ]);
      sse.close();
    }
    for (const accept of ['text/html', 'application/json;q=0, text/event-stream;q=0', '*/*;q=0']) {
      const res = await t.http.get('/v1/events').set(auth).set('Accept', accept);
      expect([accept, res.status, res.body.code, res.body.error]).toEqual([
        accept,
        406,
        'not_acceptable',
        expect.stringContaining('application/json, text/event-stream'),
      ]);
    }
  });

  it('refuses an unknown Last-Event-ID with 400', async () => {
    const res = await t.http
      .get('/v1/events')
      .set(bearer())
      .set('Accept', 'text/event-stream')
      .set('Last-Event-ID', randomUUID());
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_cursor');
  });
});

describe.each(DATABASES)('with EVENTS_ENABLED=false on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db, { EVENTS_ENABLED: 'false' });
  });
  afterAll(() => t.close());

  it('writes record no event, and /v1/events says why there are none', async () => {
    const auth = bearer(token({ account: `acct-${randomUUID()}` }));
    const { path } = await scoredRun(t.http, auth);
    expect((await t.http.put(path).set(auth).send({ value: 2 })).status).toBe(200);
    const history = await t.http.get(`${path}/history`).set(auth);
    expect(history.body.map((c: { operation: string }) => c.operation)).toEqual([
      'create',
      'update',
    ]);
    const [{ count }] = await t.dataSource.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM outbox_writes',
    );
    expect(count).toBe(0);
    for (const accept of ['application/json', 'text/event-stream']) {
      const res = await t.http.get('/v1/events').set(auth).set('Accept', accept);
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('events_disabled');
      expect(res.body.error).toMatch(/EVENTS_ENABLED is false/);
    }
  });
});
