import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Controller, type INestMicroservice, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EventPattern, Payload, RpcException } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { createLabel, createRun, scoredRun } from './support/factories.js';
import { type AssayEventOf, AssayEventsTransport } from '../src/events/index.js';
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
  readonly deletionTimes: number[] = [];
  /** Run updates seen: their handler always fails. */
  readonly runUpdates: string[] = [];
  /** Runs created, as their handler's Observable completed. */
  readonly runsCreated: string[] = [];
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
    this.scores.deletionTimes.push(performance.now());
    await new Promise((r) => setTimeout(r, 10));
    if (this.scores.deletions.filter((id) => id === event.id).length === 1) {
      throw new Error('the dashboard database is away');
    }
    this.scores.latest.delete(event.data.id);
  }

  /** A handler that never succeeds: its events end on the dead-letter subject. */
  @EventPattern('run.updated')
  runUpdated(@Payload() event: AssayEventOf<'run.updated'>): void {
    this.scores.runUpdates.push(event.id);
    // An RpcException's message passes Nest's exception filter (another error's does not).
    throw new RpcException(`run ${event.data.id} cannot be handled`);
  }

  /** An Observable handler, which fails the first time it sees an event. */
  @EventPattern('run.created')
  runCreated(@Payload() event: AssayEventOf<'run.created'>): Observable<void> {
    return new Observable<void>((subscriber) => {
      const timer = setTimeout(() => {
        if (!this.scores.runsCreated.includes(`tried ${event.id}`)) {
          this.scores.runsCreated.push(`tried ${event.id}`);
          subscriber.error(new Error('not yet'));
          return;
        }
        this.scores.runsCreated.push(event.id);
        subscriber.next();
        subscriber.complete();
      }, 20);
      return () => clearTimeout(timer);
    });
  }
}

@Module({ controllers: [ScoresController], providers: [Scores] })
class DashboardModule {}

/** A handler that takes its time, to be closed while it runs. */
@Injectable()
class Slow {
  started = 0;
  finished = 0;
}

@Controller()
class SlowController {
  constructor(private readonly slow: Slow) {}

  @EventPattern('label.created')
  async created(@Payload() _event: AssayEventOf<'label.created'>): Promise<void> {
    this.slow.started++;
    await new Promise((r) => setTimeout(r, 800));
    this.slow.finished++;
  }
}

@Module({ controllers: [SlowController], providers: [Slow] })
class SlowModule {}

// One database is enough: the consumer only sees NATS.
describeWith('NATS').each(DATABASES.slice(0, 1))(
  'a Nest microservice consuming Assay events ($name)',
  (db) => {
    let t: TestApp;
    let consumer: INestMicroservice;
    const account = `consumer-${randomUUID()}`;
    const durable = `dashboard-${randomUUID()}`;

    beforeAll(async () => {
      t = await startApp(db, { NATS_URL: NATS });
      // Makes the stream ASSAY exist before the consumer binds to it.
      await createRun(t.http, {}, bearer(token({ account: `warm-${randomUUID()}` })));
      await new Promise((r) => setTimeout(r, 500));
      consumer = await NestFactory.createMicroservice(DashboardModule, {
        strategy: new AssayEventsTransport({
          servers: NATS,
          durable,
          subject: `assay.${account}.>`,
          maxDeliver: 3,
          backoffMs: [300, 100],
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
      // Handed over again after the first pause of the backoff.
      expect(scores().deletionTimes[1] - scores().deletionTimes[0]).toBeGreaterThanOrEqual(250);
      expect(scores().latest.has(evaluation.id)).toBe(false);
    });

    it('acknowledges an Observable handler once it completes, and retries it when it errors', async () => {
      const auth = bearer(token({ account }));
      const run = await createRun(t.http, {}, auth);
      let event: AssayEvent | undefined;
      await until(async () => {
        const page = (await t.http.get('/v1/events').set(auth).set('Accept', 'application/json'))
          .body as AssayEvent[];
        event = page.find((e) => e.type === 'run.created' && e.data.id === run.id);
        return event !== undefined;
      });
      await until(() => scores().runsCreated.includes(event!.id));
      expect(scores().runsCreated.filter((s) => s.endsWith(event!.id))).toEqual([
        `tried ${event!.id}`,
        event!.id,
      ]);
    });

    it('lets the event in hand finish and be acknowledged when it closes', async () => {
      const slowAccount = `slow-${randomUUID()}`;
      const slowDurable = `slow-${randomUUID()}`;
      const slow = await NestFactory.createMicroservice(SlowModule, {
        strategy: new AssayEventsTransport({
          servers: NATS,
          durable: slowDurable,
          subject: `assay.${slowAccount}.label.>`,
        }),
        logger: false,
      });
      await slow.listen();
      const state = slow.get(Slow);
      await createLabel(t.http, {}, bearer(token({ account: slowAccount })));
      await until(() => state.started === 1);
      await slow.close();
      expect(state.finished).toBe(1);
      const nc = await connect({ servers: NATS });
      try {
        const info = await (await jetstreamManager(nc)).consumers.info('ASSAY', slowDurable);
        expect(info.num_ack_pending).toBe(0);
        expect(info.num_pending).toBe(0);
      } finally {
        await nc.close();
      }
    });

    it('sends an event whose handler keeps failing to the dead-letter subject after maxDeliver', async () => {
      const nc = await connect({ servers: NATS });
      try {
        const dead = nc.subscribe(`assay-dead-letter.${durable}`, { max: 1 });
        const auth = bearer(token({ account }));
        const run = await createRun(t.http, {}, auth);
        await t.http.patch(`/v1/run/${run.id}`).set(auth).send({ name: 'renamed' });
        for await (const m of dead) {
          const event = m.json<AssayEvent>();
          expect(event.type).toBe('run.updated');
          expect(event.data.id).toBe(run.id);
          expect(m.headers?.get('Assay-Deliveries')).toBe('3');
          expect(m.headers?.get('Assay-Error')).toBe(`run ${run.id} cannot be handled`);
          expect(m.headers?.get('Assay-Subject')).toBe(`assay.${account}.run.updated`);
        }
        expect(scores().runUpdates).toHaveLength(3);
        await new Promise((r) => setTimeout(r, 500));
        expect(scores().runUpdates).toHaveLength(3);
      } finally {
        await nc.close();
      }
    });
  },
);
