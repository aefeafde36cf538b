import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, type TestDatabase } from './support/app.js';
import { createLabel, createRun } from './support/factories.js';

/** A TCP proxy to PostgreSQL that a spec can cut and mend, as a network would. */
class CuttableProxy {
  private server?: Server;
  private sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: URL) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(Number(this.target.port || 5432), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async cut(): Promise<void> {
    const closed = new Promise((resolve) => this.server!.close(resolve));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

// Only a server can become unreachable; the embedded database lives in the process.
const SERVERS = DATABASES.filter((db) => db.env.DATABASE_URL);

(SERVERS.length
  ? describe.each(SERVERS)
  : describe.skip.each<TestDatabase>([{ name: 'PostgreSQL (TEST_DATABASE_URL unset)', env: {} }]))(
  'when the database becomes unreachable, on $name',
  (db) => {
    let t: TestApp;
    let proxy: CuttableProxy;
    beforeAll(async () => {
      const target = new URL(db.env.DATABASE_URL ?? '');
      proxy = new CuttableProxy(target);
      await proxy.open();
      const viaProxy = new URL(target);
      viaProxy.host = `127.0.0.1:${proxy.port}`;
      t = await startApp(db, { DATABASE_URL: viaProxy.toString() });
    });
    afterAll(async () => {
      await t.close();
      await proxy.cut();
    });

    it('answers 503 in the error shape, never 500, and recovers when it is back', async () => {
      const label = await createLabel(t.http);
      const run = await createRun(t.http);
      await proxy.cut();

      const attempts = [
        t.http.get('/v1/runs').set(bearer()),
        t.http.get(`/v1/run/${run.id}`).set(bearer()),
        t.http
          .post(`/v1/run/${run.id}/evaluations`)
          .set(bearer())
          .send({ evaluation_label_id: label.id, value: 1 }),
        t.http.post('/v1/runs').set(bearer()).send({}),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.status).toBe(503);
        expect(res.body).toEqual({
          error: expect.any(String),
          code: 'database_unavailable',
          request_id: expect.any(String),
        });
      }
      expect((await t.http.get('/health/ready')).status).toBe(503);
      expect((await t.http.get('/health/live')).status).toBe(200);

      await proxy.open();
      const back = await t.http
        .post(`/v1/run/${run.id}/evaluations`)
        .set(bearer())
        .send({ evaluation_label_id: label.id, value: 2 });
      expect(back.status).toBe(201);
      // Nothing from the outage was half-written: only the evaluation made after it exists.
      const list = await t.http.get(`/v1/run/${run.id}/evaluations`).set(bearer());
      expect(list.body.map((e: { value: number }) => e.value)).toEqual([2]);
    });
  },
);
