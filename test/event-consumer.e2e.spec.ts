import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Controller, type INestMicroservice, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { createRun, scoredRun } from './support/factories.js';
import { AssayEventsTransport } from './support/jetstream-transport.js';
import { describeWith } from './support/services.js';
import { until } from './support/until.js';

const NATS = 'nats://127.0.0.1:4222';

interface AssayEvent {
  id: string;
  type: string;
  account_id: string;
  data: { id: string; value: number; old_value?: number };
}

/** What a dashboard service would keep: the latest value of each evaluation it was told of. */
@Injectable()
class Scores {
  readonly received: AssayEvent[] = [];
  readonly latest = new Map<string, number>();
  /** Deletions seen, failures included: the first attempt at each fails. */
  readonly deletions: string[] = [];
}

@Controller()
class ScoresController {
  constructor(private readonly scores: Scores) {}

  @EventPattern('evaluation.created')
  created(@Payload() event: AssayEvent): void {
    this.scores.received.push(event);
    this.scores.latest.set(event.data.id, event.data.value);
  }

  @EventPattern('evaluation.updated')
  updated(@Payload() event: AssayEvent): void {
    this.scores.received.push(event);
    this.scores.latest.set(event.data.id, event.data.value);
  }

  /** A handler that fails now and then, as one whose own database is away would. */
  @EventPattern('evaluation.deleted')
  async deleted(@Payload() event: AssayEvent): Promise<void> {
    this.scores.deletions.push(event.id);
    await new Promise((r) => setTimeout(r, 10));
    if (this.scores.deletions.filter((id) => id === event.id).length === 1) {
      throw new Error('the dashboard database is away');
    }
    this.scores.latest.delete(event.data.id);
  }
}

@Module({ controllers: [ScoresController], providers: [Scores] })
class DashboardModule {}

// One database is enough: the consumer only sees NATS.
describeWith('NATS').each(DATABASES.slice(0, 1))(
  'a Nest microservice consuming Assay events ($name)',
  (db) => {
    let t: TestApp;
    let consumer: INestMicroservice;
    const account = `consumer-${randomUUID()}`;

    beforeAll(async () => {
      t = await startApp(db, { NATS_URL: NATS });
      // Makes the stream ASSAY exist before the consumer binds to it.
      await createRun(t.http, {}, bearer(token({ account: `warm-${randomUUID()}` })));
      await new Promise((r) => setTimeout(r, 500));
      consumer = await NestFactory.createMicroservice(DashboardModule, {
        strategy: new AssayEventsTransport({
          servers: NATS,
          durable: `dashboard-${randomUUID()}`,
          subject: `assay.${account}.evaluation.>`,
        }),
        logger: false,
      });
      await consumer.listen();
    });
    afterAll(async () => {
      await consumer.close();
      await t.close();
    });

    const scores = () => consumer.get(Scores);

    it('receives every created and updated evaluation through JetStream', async () => {
      const auth = bearer(token({ account }));
      const { evaluation, path } = await scoredRun(t.http, auth);
      await t.http.put(path).set(auth).send({ value: 4 });
      await until(() => scores().received.length >= 2);
      expect(scores().received.map((e) => e.type)).toEqual([
        'evaluation.created',
        'evaluation.updated',
      ]);
      expect(scores().received[1].data.old_value).toBe(1);
      expect(scores().latest.get(evaluation.id)).toBe(4);
    });

    it('gets an event again when its handler throws, and handles it then', async () => {
      const auth = bearer(token({ account }));
      const { evaluation, path } = await scoredRun(t.http, auth);
      await until(() => scores().latest.has(evaluation.id));
      expect((await t.http.delete(path).set(auth)).status).toBe(204);
      await until(() => !scores().latest.has(evaluation.id));
      expect(scores().deletions).toHaveLength(2);
      expect(scores().deletions[1]).toBe(scores().deletions[0]);
      expect(scores().latest.has(evaluation.id)).toBe(false);
    });
  },
);
