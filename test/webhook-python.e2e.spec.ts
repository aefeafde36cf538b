import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { until } from './support/until.js';

/** The receiver docs/events.md gives for Python, run as a reader would run it. */
const SCRIPT = 'docs/examples/webhook_receiver.py';

interface PythonReceiver {
  url: string;
  /** The events it printed: those whose signature it verified. */
  printed: { id: string; type: string }[];
  child: ChildProcess;
}

async function startPython(secret: string): Promise<PythonReceiver> {
  const child = spawn('python3', [SCRIPT, '0'], {
    env: { ...process.env, ASSAY_WEBHOOK_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const printed: PythonReceiver['printed'] = [];
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${SCRIPT} exited with ${code}`)));
    lines.on('line', (line) => {
      const listening = /^listening on (\d+)$/.exec(line);
      if (listening) resolve(Number(listening[1]));
      else printed.push(JSON.parse(line) as PythonReceiver['printed'][number]);
    });
  });
  return { url: `http://127.0.0.1:${port}/assay`, printed, child };
}

describe('the Python example of docs/events.md', () => {
  it('shows the check exactly as the receiver that is tested has it', () => {
    const shown = /```python\n([^`]+)```/.exec(readFileSync('docs/events.md', 'utf8'));
    expect(shown).not.toBeNull();
    expect(readFileSync(SCRIPT, 'utf8')).toContain(shown![1]);
  });
});

describe.each(DATABASES)('the Python webhook receiver of the docs, on $name', (db) => {
  let t: TestApp;
  const receivers: PythonReceiver[] = [];
  beforeAll(async () => {
    t = await startApp(db, {
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_RETRY_SCHEDULE: '300ms,300ms,300ms',
    });
  });
  afterAll(async () => {
    for (const r of receivers) r.child.kill();
    await t.close();
  });

  it('verifies real deliveries, before and after a secret rotation, and refuses a forged one', async () => {
    const auth = bearer(token({ account: `python-${randomUUID()}` }));
    const created = await t.http
      .post('/v1/webhooks')
      .set(auth)
      .send({ url: 'http://127.0.0.1:9/assay', event_types: ['run.created'] });
    expect(created.status).toBe(201);
    const hook = created.body as { id: string; secret: string };
    const python = await startPython(hook.secret);
    receivers.push(python);
    const moved = await t.http.patch(`/v1/webhook/${hook.id}`).set(auth).send({ url: python.url });
    expect(moved.status).toBe(200);

    const run = await t.http.post('/v1/runs').set(auth).send({ name: 'first' });
    await until(() => python.printed.length === 1, 30_000);
    expect(python.printed[0]).toMatchObject({ type: 'run.created', data: { id: run.body.id } });

    // Rotated: the receiver still holds the old secret, and both signatures come for a while.
    const rotated = await t.http.post(`/v1/webhook/${hook.id}/rotate-secret`).set(auth);
    expect(rotated.status).toBe(200);
    const second = await t.http.post('/v1/runs').set(auth).send({ name: 'second' });
    await until(() => python.printed.length === 2, 30_000);
    expect(python.printed[1]).toMatchObject({ data: { id: second.body.id } });

    const deliveries = await t.http.get(`/v1/webhook/${hook.id}/deliveries`).set(auth);
    expect(deliveries.body).toHaveLength(2);
    expect(deliveries.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ status: 'succeeded', status_code: 204 })]),
    );

    const forged = await fetch(python.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': randomUUID(),
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': `v1,${Buffer.from('not the signature').toString('base64')}`,
      },
      body: JSON.stringify(python.printed[0]),
    });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toBe('no valid signature');
    expect(python.printed).toHaveLength(2);
  });
});
