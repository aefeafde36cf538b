import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { scoredRun } from './support/factories.js';
import { answer, type Receiver, startReceiver } from './support/receiver.js';
import { until } from './support/until.js';

const ENV = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,300ms',
  WEBHOOK_TIMEOUT: '1000',
  WEBHOOK_SECRET_OVERLAP: '3',
};

const headersOf = (r: { headers: Record<string, unknown> }) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

describe.each(DATABASES)('webhooks on $name', (db) => {
  let t: TestApp;
  let receiver: Receiver;
  beforeAll(async () => {
    t = await startApp(db, ENV);
    receiver = await startReceiver();
  });
  afterAll(() => t.close());

  it('delivers signed events that standardwebhooks verifies', async () => {
    const auth = bearer(token({ account: 'signed' }));
    const hook = await t.http
      .post('/v1/webhooks')
      .set(auth)
      .send({ url: receiver.url, event_types: ['evaluation.created', 'evaluation.updated'] });
    expect(hook.status).toBe(201);
    expect(hook.body.secret).toMatch(/^whsec_/);
    const { path } = await scoredRun(t.http, auth);
    await t.http.put(path).set(auth).send({ value: 4 });
    await until(() => receiver.received.length >= 2, 20_000);
    const wh = new Webhook(hook.body.secret);
    const events = receiver.received.map(
      (r) => wh.verify(r.body, headersOf(r)) as { type: string; id: string },
    );
    expect(events.map((e) => e.type)).toEqual(['evaluation.created', 'evaluation.updated']);
    const attempts = await t.http.get(`/v1/webhook/${hook.body.id}/deliveries`).set(auth);
    expect(attempts.status).toBe(200);
    expect(attempts.body).toHaveLength(2);
  });
});
