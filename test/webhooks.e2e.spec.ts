import { randomUUID } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Webhook } from 'standardwebhooks';
import { createApp } from '../src/app.factory.js';
import { loadSettings } from '../src/config/settings.js';
import {
  MAX_WEBHOOK_URL,
  MAX_WEBHOOKS_PER_ACCOUNT,
} from '../src/webhooks/dto/create-webhook.dto.js';
import { DEFAULT_WEBHOOK_TIMEOUT_MS } from '../src/webhooks/retry-schedule.js';
import {
  bearer,
  DATABASES,
  describeOnServers,
  startApp,
  type TestApp,
  testSettings,
  token,
} from './support/app.js';
import { scoredRun } from './support/factories.js';
import { sample } from './support/metrics.js';
import { answer, hang, type Received, type Receiver, startReceiver } from './support/receiver.js';
import { until } from './support/until.js';

/** Short retries and timeout, and receivers on this machine over plain http. */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,300ms',
  WEBHOOK_TIMEOUT: '1000',
  WEBHOOK_SECRET_OVERLAP: '3',
};
const RETRIES = 3;

interface Event {
  id: string;
  type: string;
  account_id: string;
  data: { id: string };
}

const headersOf = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});
const idsOf = (rs: Received[]) => rs.map((r) => String(r.headers['webhook-id']));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers with each behaviour in turn, then with the last one for good. */
function inTurn(receiver: Receiver, ...behaviours: ((r: Received, res: never) => void)[]) {
  let n = 0;
  receiver.behave((r, res) => behaviours[Math.min(n++, behaviours.length - 1)](r, res as never));
}

describe('webhook settings', () => {
  it('give a receiver 15 s and retry on Standard Webhooks’ schedule by default', () => {
    const s = loadSettings({});
    expect(s.WEBHOOK_TIMEOUT).toBe(15_000);
    expect(DEFAULT_WEBHOOK_TIMEOUT_MS).toBe(15_000);
    expect(s.WEBHOOK_RETRY_SCHEDULE).toBe('5s,5m,30m,2h,5h,10h,10h');
    expect(s.WEBHOOK_SECRET_OVERLAP).toBe(86_400);
    expect(s.WEBHOOK_ALLOW_PRIVATE).toBe(false);
    expect(s.WEBHOOK_ALLOW_HTTP).toBe(false);
  });
});

describe.each(DATABASES)('webhooks on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db, ENV);
  });
  afterAll(() => t.close());

  const account = () => {
    const name = `hooks-${randomUUID()}`;
    return { name, auth: bearer(token({ account: name })) };
  };
  const register = async (
    auth: Record<string, string>,
    url: string,
    eventTypes: string[] = ['*'],
  ): Promise<{ id: string; secret: string }> => {
    const res = await t.http.post('/v1/webhooks').set(auth).send({ url, event_types: eventTypes });
    expect(res.status).toBe(201);
    return res.body as { id: string; secret: string };
  };
  const runCreated = async (auth: Record<string, string>) => {
    const res = await t.http.post('/v1/runs').set(auth).send({ name: 'r' });
    expect(res.status).toBe(201);
    return res.body as { id: string };
  };
  /** The account's events, once at least `count` are there (given their place). */
  const events = async (auth: Record<string, string>, count: number): Promise<Event[]> => {
    let kept: Event[] = [];
    await until(async () => {
      kept = (await t.http.get('/v1/events').set(auth).set('Accept', 'application/json'))
        .body as Event[];
      return kept.length >= count;
    }, 30_000);
    return kept;
  };
  const attempts = async (auth: Record<string, string>, id: string) => {
    const res = await t.http.get(`/v1/webhook/${id}/deliveries`).set(auth);
    expect(res.status).toBe(200);
    return (
      res.body as {
        event_id: string;
        attempt: number;
        status: string;
        status_code: number | null;
        latency_ms: number;
        error: string | null;
        next_attempt_at: string | null;
      }[]
    ).reverse();
  };
  const webhook = async (auth: Record<string, string>, id: string) =>
    (await t.http.get(`/v1/webhook/${id}`).set(auth)).body as {
      enabled: boolean;
      disabled_reason: string | null;
    };

  it('registers, reads, lists, updates and deletes webhooks, showing the secret only once', async () => {
    const { name, auth } = account();
    const body = {
      url: 'http://127.0.0.1:9/hook',
      event_types: ['evaluation.created'],
      description: 'dashboard',
    };
    const created = await t.http
      .post('/v1/webhooks')
      .set(auth)
      .set('Idempotency-Key', 'hook-1')
      .send(body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      ...body,
      account_id: name,
      enabled: true,
      disabled_reason: null,
      previous_secret_expires_at: null,
      created_by: 'alice',
    });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const again = await t.http
      .post('/v1/webhooks')
      .set(auth)
      .set('Idempotency-Key', 'hook-1')
      .send(body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(created.body);

    const id = created.body.id as string;
    const read = await t.http.get(`/v1/webhook/${id}`).set(auth);
    expect(read.status).toBe(200);
    expect(read.body.secret).toBeUndefined();
    const shown = { ...(created.body as Record<string, unknown>) };
    delete shown.secret;
    expect(read.body).toEqual(shown);
    expect(read.headers.etag).toBeDefined();
    const listed = await t.http.get('/v1/webhooks').set(auth);
    expect(listed.body).toEqual([shown]);

    const stale = await t.http
      .patch(`/v1/webhook/${id}`)
      .set(auth)
      .set('If-Match', '"nope"')
      .send({ enabled: false });
    expect(stale.status).toBe(412);
    const patched = await t.http
      .patch(`/v1/webhook/${id}`)
      .set(auth)
      .set('If-Match', read.headers.etag)
      .send({ enabled: false, event_types: ['*'], description: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      enabled: false,
      disabled_reason: expect.stringMatching(/owner/),
      event_types: ['*'],
      description: null,
    });
    expect(patched.headers.etag).not.toBe(read.headers.etag);
    const reenabled = await t.http.patch(`/v1/webhook/${id}`).set(auth).send({ enabled: true });
    expect(reenabled.body).toMatchObject({ enabled: true, disabled_reason: null });

    const foreign = bearer(token({ account: `other-${randomUUID()}` }));
    expect((await t.http.get(`/v1/webhook/${id}`).set(foreign)).status).toBe(404);
    expect((await t.http.delete(`/v1/webhook/${id}`).set(foreign)).status).toBe(404);
    expect((await t.http.get(`/v1/webhook/${id}/deliveries`).set(foreign)).status).toBe(404);
    expect((await t.http.delete(`/v1/webhook/${id}`).set(auth)).status).toBe(204);
    expect((await t.http.get(`/v1/webhook/${id}`).set(auth)).status).toBe(404);
    expect((await t.http.get('/v1/webhooks').set(auth)).body).toEqual([]);
  });

  it('delivers each event of its types once, signed, in commit order, webhook-id the event id', async () => {
    const { auth } = account();
    const receiver = await startReceiver();
    const hook = await register(auth, receiver.url, ['evaluation.created', 'evaluation.updated']);
    const { path } = await scoredRun(t.http, auth);
    for (const value of [2, 3, 4]) await t.http.put(path).set(auth).send({ value });
    const wanted = (await events(auth, 6)).filter((e) => e.type.startsWith('evaluation.'));
    expect(wanted).toHaveLength(4);
    await until(() => receiver.received.length >= 4, 30_000);
    await sleep(300);
    expect(idsOf(receiver.received)).toEqual(wanted.map((e) => e.id));
    const verifier = new Webhook(hook.secret);
    receiver.received.forEach((r, i) => {
      expect(verifier.verify(r.body, headersOf(r))).toEqual(wanted[i]);
      expect(r.body).toBe(JSON.stringify(wanted[i]));
      expect(r.headers['content-type']).toBe('application/json');
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    });
    const tampered = receiver.received[0];
    expect(() =>
      verifier.verify(tampered.body.replace('"value":1', '"value":5'), headersOf(tampered)),
    ).toThrow();
    const tried = await attempts(auth, hook.id);
    expect(tried.map((a) => [a.event_id, a.attempt, a.status, a.status_code])).toEqual(
      wanted.map((e) => [e.id, 1, 'succeeded', 204]),
    );
    for (const a of tried) {
      expect(a.error).toBeNull();
      expect(a.next_attempt_at).toBeNull();
      expect(a.latency_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('retries a failure with the same webhook-id, holding back the events after it', async () => {
    const { auth } = account();
    const receiver = await startReceiver();
    inTurn(receiver, answer(500, {}, 'database away'), answer(500), answer(204));
    const hook = await register(auth, receiver.url);
    await runCreated(auth);
    await runCreated(auth);
    const [first, second] = await events(auth, 2);
    await until(() => receiver.received.length >= 4, 30_000);
    await sleep(300);
    expect(idsOf(receiver.received)).toEqual([first.id, first.id, first.id, second.id]);
    const tried = await attempts(auth, hook.id);
    expect(tried.map((a) => [a.event_id, a.attempt, a.status, a.status_code])).toEqual([
      [first.id, 1, 'failed', 500],
      [first.id, 2, 'failed', 500],
      [first.id, 3, 'succeeded', 204],
      [second.id, 1, 'succeeded', 204],
    ]);
    expect(tried[0].error).toBe('HTTP 500: database away');
    expect(tried[0].next_attempt_at).not.toBeNull();
    // 300 ms ±20% after the attempt.
    const gap = receiver.received[1].at - receiver.received[0].at;
    expect(gap).toBeGreaterThanOrEqual(230);
  });

  it('waits as long as Retry-After says on a 429', async () => {
    const { auth } = account();
    const receiver = await startReceiver();
    inTurn(receiver, answer(429, { 'Retry-After': '2' }), answer(204));
    const hook = await register(auth, receiver.url);
    await runCreated(auth);
    await until(() => receiver.received.length >= 2, 30_000);
    expect(receiver.received[1].at - receiver.received[0].at).toBeGreaterThanOrEqual(1900);
    const tried = await attempts(auth, hook.id);
    expect(tried.map((a) => a.status_code)).toEqual([429, 204]);
  });

  it('disables the endpoint at once on a 410; enabled again, it goes on with what waits', async () => {
    const { auth } = account();
    const receiver = await startReceiver();
    receiver.behave(answer(410));
    const hook = await register(auth, receiver.url);
    await runCreated(auth);
    await until(async () => !(await webhook(auth, hook.id)).enabled, 30_000);
    expect((await webhook(auth, hook.id)).disabled_reason).toMatch(/410 Gone/);
    await runCreated(auth);
    await sleep(1000);
    expect(receiver.received).toHaveLength(1);
    receiver.behave(answer(204));
    await t.http.patch(`/v1/webhook/${hook.id}`).set(auth).send({ enabled: true });
    await until(() => receiver.received.length >= 2, 30_000);
    const [first, second] = await events(auth, 2);
    expect(idsOf(receiver.received)).toEqual([first.id, second.id]);
    expect((await attempts(auth, hook.id)).map((a) => a.status)).toEqual(['failed', 'succeeded']);
  });

  it('disables the endpoint with the reason once the retry schedule is spent', async () => {
    const { auth } = account();
    const receiver = await startReceiver();
    receiver.behave(answer(503, {}, 'down for maintenance'));
    const before = sample((await t.http.get('/metrics')).text, 'assay_webhook_deliveries_total', {
      outcome: 'failed',
    });
    const hook = await register(auth, receiver.url);
    await runCreated(auth);
    await until(async () => !(await webhook(auth, hook.id)).enabled, 30_000);
    expect(receiver.received).toHaveLength(1 + RETRIES);
    expect((await webhook(auth, hook.id)).disabled_reason).toMatch(
      /retry schedule was exhausted.*4 attempts.*HTTP 503: down for maintenance/,
    );
    const tried = await attempts(auth, hook.id);
    expect(tried.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    expect(tried[3].next_attempt_at).toBeNull();
    const metrics = (await t.http.get('/metrics')).text;
    expect(
      sample(metrics, 'assay_webhook_deliveries_total', { outcome: 'failed' }),
    ).toBeGreaterThanOrEqual(before + 1);
  });

  it('fails an attempt the receiver does not answer within WEBHOOK_TIMEOUT', async () => {
    const { auth } = account();
    const receiver = await startReceiver();
    inTurn(receiver, hang, answer(200));
    const hook = await register(auth, receiver.url);
    await runCreated(auth);
    await until(() => receiver.received.length >= 2, 30_000);
    await sleep(300);
    const tried = await attempts(auth, hook.id);
    expect(tried[0]).toMatchObject({ status: 'failed', status_code: null });
    expect(tried[0].error).toBe('no answer within 1000 ms');
    expect(tried[0].latency_ms).toBeGreaterThanOrEqual(950);
    expect(tried[1]).toMatchObject({ status: 'succeeded', status_code: 200 });
  });

  it('retries a receiver that is down, and holds up no other endpoint meanwhile', async () => {
    const { auth } = account();
    const dead = await startReceiver();
    await dead.close();
    const live = await startReceiver();
    const deadHook = await register(auth, dead.url);
    await register(auth, live.url);
    for (let i = 0; i < 5; i++) await runCreated(auth);
    await until(() => live.received.length >= 5, 30_000);
    await until(async () => !(await webhook(auth, deadHook.id)).enabled, 30_000);
    const tried = await attempts(auth, deadHook.id);
    expect(tried).toHaveLength(1 + RETRIES);
    for (const a of tried) expect(a.error).toBe('connection refused');
  });

  it('does not follow a redirect, counting it a failure', async () => {
    const { auth } = account();
    const target = await startReceiver();
    const receiver = await startReceiver();
    inTurn(receiver, answer(302, { Location: target.url }), answer(204));
    const hook = await register(auth, receiver.url);
    await runCreated(auth);
    await until(() => receiver.received.length >= 2, 30_000);
    expect(target.received).toHaveLength(0);
    const [first] = await attempts(auth, hook.id);
    expect(first).toMatchObject({ status: 'failed', status_code: 302 });
    expect(first.error).toMatch(/redirect.*not followed/);
  });

  it('reads at most 64 KB of an answer', async () => {
    const { auth } = account();
    const receiver = await startReceiver();
    // A 2xx whose body never ends: read to its end, it would time out.
    receiver.behave((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x'.repeat(256 * 1024));
    });
    const hook = await register(auth, receiver.url);
    await runCreated(auth);
    await until(async () => (await attempts(auth, hook.id)).length >= 1, 30_000);
    const [first] = await attempts(auth, hook.id);
    expect(first).toMatchObject({ status: 'succeeded', status_code: 200 });
    expect(first.latency_ms).toBeLessThan(1000);
  });

  it('signs with both secrets for the overlap after a rotation, then with the new one', async () => {
    const { auth } = account();
    const receiver = await startReceiver();
    const hook = await register(auth, receiver.url);
    const rotated = await t.http.post(`/v1/webhook/${hook.id}/rotate-secret`).set(auth);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(hook.secret);
    expect(
      new Date(rotated.body.previous_secret_expires_at as string).getTime() - Date.now(),
    ).toBeLessThanOrEqual(3000);
    await runCreated(auth);
    await until(() => receiver.received.length >= 1, 30_000);
    const during = receiver.received[0];
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(rotated.body.secret).verify(during.body, headersOf(during))).toBeDefined();
    expect(new Webhook(hook.secret).verify(during.body, headersOf(during))).toBeDefined();

    await sleep(3500);
    await runCreated(auth);
    await until(() => receiver.received.length >= 2, 30_000);
    const after = receiver.received[1];
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(new Webhook(rotated.body.secret).verify(after.body, headersOf(after))).toBeDefined();
    expect(() => new Webhook(hook.secret).verify(after.body, headersOf(after))).toThrow();
  });

  it('replays from an event id or an instant, with the same webhook-ids', async () => {
    const { auth } = account();
    const receiver = await startReceiver();
    const hook = await register(auth, receiver.url, ['run.created']);
    const started = new Date().toISOString();
    for (let i = 0; i < 3; i++) await runCreated(auth);
    const kept = await events(auth, 3);
    await until(() => receiver.received.length >= 3, 30_000);
    const replay = (since: string) =>
      t.http.post(`/v1/webhook/${hook.id}/replay`).set(auth).send({ since });
    const fromSecond = await replay(kept[1].id);
    expect(fromSecond.status).toBe(202);
    expect(fromSecond.body).toEqual({ webhook_id: hook.id, events: 2 });
    await until(() => receiver.received.length >= 5, 30_000);
    expect(idsOf(receiver.received).slice(3)).toEqual([kept[1].id, kept[2].id]);
    const fromInstant = await replay(started);
    expect(fromInstant.body).toEqual({ webhook_id: hook.id, events: 3 });
    await until(() => receiver.received.length >= 8, 30_000);
    expect(idsOf(receiver.received).slice(5)).toEqual(kept.map((e) => e.id));
    expect((await replay('yesterday')).status).toBe(400);
    expect((await replay(randomUUID())).body.code).toBe('unknown_event');
  });

  it('refuses bad registrations with a clear 4xx', async () => {
    const { auth } = account();
    const good = { url: 'http://127.0.0.1:9/hook', event_types: ['*'] };
    const cases: [object, number, RegExp][] = [
      [{ ...good, url: 'not a url' }, 400, /absolute http or https URL/],
      [{ ...good, url: 'ftp://example.com/x' }, 400, /http or https/],
      [{ ...good, url: `http://127.0.0.1/${'a'.repeat(MAX_WEBHOOK_URL)}` }, 400, /2048/],
      [{ ...good, url: 'http://user:pw@127.0.0.1:9/hook' }, 422, /credentials/],
      [{ ...good, url: 42 }, 400, /url/],
      [{ ...good, event_types: ['evaluation.exploded'] }, 400, /event_types/],
      [{ ...good, event_types: [] }, 400, /at least one/],
      [{ ...good, event_types: ['run.created', 'run.created'] }, 400, /repeat/],
      [{ ...good, event_types: 'run.created' }, 400, /event_types/],
      [{ url: good.url }, 400, /event_types/],
      [{ ...good, secret: 'whsec_mine' }, 400, /secret/],
    ];
    for (const [body, status, message] of cases) {
      const res = await t.http.post('/v1/webhooks').set(auth).send(body);
      expect([body, res.status]).toEqual([body, status]);
      expect(JSON.stringify(res.body)).toMatch(message);
    }
    expect((await t.http.get('/v1/webhooks').set(auth)).body).toEqual([]);
  });

  it(`allows ${MAX_WEBHOOKS_PER_ACCOUNT} webhooks in an account, and refuses one more`, async () => {
    const { auth } = account();
    const body = { url: 'http://127.0.0.1:9/hook', event_types: ['label.deleted'] };
    for (let i = 0; i < MAX_WEBHOOKS_PER_ACCOUNT; i += 50) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => t.http.post('/v1/webhooks').set(auth).send(body)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(50).fill(201));
    }
    const over = await t.http.post('/v1/webhooks').set(auth).send(body);
    expect(over.status).toBe(422);
    expect(over.body.code).toBe('webhook_limit_reached');
    expect(over.body.error).toMatch(/1000/);
  }, 240_000);

  it('shows the age of the oldest delivery owed', async () => {
    const { auth } = account();
    const receiver = await startReceiver();
    receiver.behave(hang);
    await register(auth, receiver.url);
    await runCreated(auth);
    await runCreated(auth);
    let text = '';
    await until(async () => {
      text = (await t.http.get('/metrics')).text;
      return sample(text, 'assay_webhook_pending_deliveries') >= 2;
    }, 30_000);
    await sleep(500);
    text = (await t.http.get('/metrics')).text;
    expect(receiver.received.length).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'assay_webhook_oldest_pending_age_seconds')).toBeGreaterThan(0.4);
    await receiver.close();
  });
});

/** Resolves `rebind.test` to a public address at first, then to this machine. */
function rebindingLookup(): { lookup: LookupFunction; calls: string[] } {
  const calls: string[] = [];
  const lookup: LookupFunction = (hostname, options, callback) => {
    calls.push(hostname);
    const address =
      hostname === 'rebind.test' ? (calls.length === 1 ? '203.0.113.7' : '127.0.0.1') : '';
    if (!address) {
      callback(Object.assign(new Error(`${hostname} not found`), { code: 'ENOTFOUND' }), '', 0);
    } else if (options.all) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  };
  return { lookup, calls };
}

describe.each(DATABASES)('webhooks to private addresses on $name', (db) => {
  let t: TestApp;
  const resolver = rebindingLookup();
  beforeAll(async () => {
    t = await startApp(
      db,
      { WEBHOOK_RETRY_SCHEDULE: '300ms', WEBHOOK_TIMEOUT: '1000' },
      { lookup: resolver.lookup },
    );
  });
  afterAll(() => t.close());

  it('refuses loopback, private, link-local and plain http receivers at registration', async () => {
    const auth = bearer(token({ account: `strict-${randomUUID()}` }));
    for (const host of [
      '127.0.0.1',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[::ffff:a9fe:a9fe]',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '[fe80::1]',
      '[fd00::1]',
      '0.0.0.0',
      '224.0.0.1',
    ]) {
      const res = await t.http
        .post('/v1/webhooks')
        .set(auth)
        .send({ url: `https://${host}/hook`, event_types: ['*'] });
      expect([host, res.status, res.body.code]).toEqual([host, 422, 'webhook_url_refused']);
    }
    const plain = await t.http
      .post('/v1/webhooks')
      .set(auth)
      .send({ url: 'http://hooks.example.com/x', event_types: ['*'] });
    expect(plain.status).toBe(422);
    expect(plain.body.error).toMatch(/https.*WEBHOOK_ALLOW_HTTP/);
  });

  it('refuses a delivery when the name resolves to this machine by then (DNS rebinding)', async () => {
    const auth = bearer(token({ account: `rebind-${randomUUID()}` }));
    const receiver = await startReceiver();
    const hook = await t.http
      .post('/v1/webhooks')
      .set(auth)
      .send({ url: `https://rebind.test:${receiver.port}/hook`, event_types: ['*'] });
    expect(hook.status).toBe(201);
    await t.http.post('/v1/runs').set(auth).send({});
    await until(async () => {
      const res = await t.http.get(`/v1/webhook/${hook.body.id}/deliveries`).set(auth);
      return (res.body as unknown[]).length >= 2;
    }, 30_000);
    const res = await t.http.get(`/v1/webhook/${hook.body.id}/deliveries`).set(auth);
    for (const a of res.body as { status: string; error: string }[]) {
      expect(a.status).toBe('failed');
      expect(a.error).toMatch(/rebind\.test resolves to 127\.0\.0\.1, a loopback address/);
    }
    expect(receiver.received).toHaveLength(0);
    expect(resolver.calls.length).toBeGreaterThanOrEqual(3);
  });
});

describeOnServers('webhooks from two instances on one database', (db) => {
  let t: TestApp;
  let second: NestFastifyApplication;
  beforeAll(async () => {
    t = await startApp(db, ENV);
    second = await createApp(testSettings(db, ENV));
  });
  afterAll(async () => {
    await second?.close();
    await t.close();
  });

  it('makes each attempt once', async () => {
    const name = `fleet-${randomUUID()}`;
    const auth = bearer(token({ account: name }));
    const receivers = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    // Every fifth request fails once, so that retries are shared too.
    let n = 0;
    for (const r of receivers) {
      r.behave((_r, res) => {
        res.writeHead(n++ % 5 === 0 ? 500 : 204).end();
      });
    }
    const hooks = [];
    for (const r of receivers) {
      const res = await t.http
        .post('/v1/webhooks')
        .set(auth)
        .send({ url: r.url, event_types: ['run.created'] });
      hooks.push(res.body as { id: string });
    }
    const apps = [t.http, (await import('supertest')).default(second.getHttpServer())];
    const created = await Promise.all(
      Array.from({ length: 60 }, (_, i) => apps[i % 2].post('/v1/runs').set(auth).send({})),
    );
    expect(created.every((c) => c.status === 201)).toBe(true);
    let ids: { id: string }[] = [];
    await until(async () => {
      ids = (await t.http.get('/v1/events').set(auth).set('Accept', 'application/json')).body as {
        id: string;
      }[];
      return ids.length >= 60;
    });
    for (const r of receivers) {
      await until(() => new Set(idsOf(r.received)).size >= 60, 60_000);
    }
    await sleep(500);
    const [{ retries, tries }] = await t.dataSource.query<{ retries: number; tries: number }[]>(
      `SELECT count(*) FILTER (WHERE attempt > 1)::int AS retries, count(*)::int AS tries
         FROM webhook_attempts WHERE account_id = $1`,
      [name],
    );
    const received = receivers.reduce((sum, r) => sum + r.received.length, 0);
    expect(received).toBe(tries);
    expect(retries).toBeGreaterThan(0);
    for (const [i, r] of receivers.entries()) {
      // Every event, in commit order, each tried again only after a failure.
      expect([...new Set(idsOf(r.received))]).toEqual(ids.map((e) => e.id));
      const [{ duplicates }] = await t.dataSource.query<{ duplicates: number }[]>(
        `SELECT count(*)::int AS duplicates FROM (
           SELECT event_id, attempt FROM webhook_attempts WHERE webhook_id = $1
            GROUP BY event_id, attempt HAVING count(*) > 1) d`,
        [hooks[i].id],
      );
      expect(duplicates).toBe(0);
    }
  }, 120_000);
});
