import {
  AckPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, headers, type NatsConnection, nanos } from '@nats-io/transport-node';
import { BaseRpcContext, type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { AnyAssayEvent } from './event-types.js';

/** The stream Assay's relay publishes to. */
export const ASSAY_STREAM = 'ASSAY';
/** The stream that keeps events whose handler kept failing (subjects `assay-dead-letter.>`). */
export const DEAD_LETTER_STREAM = 'ASSAY_DEAD_LETTER';
export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_BACKOFF_MS = [1000, 5000, 30_000, 120_000];
export const DEFAULT_ACK_WAIT_MS = 30_000;

export interface AssayEventsOptions {
  /** NATS servers: nats://host:port, comma-separated or as a list. */
  servers: string | string[];
  /** The durable consumer's name: one per consuming service, so each gets every event once. */
  durable: string;
  /** Which events, as a subject: `assay.>` for all (default), `assay.acme.evaluation.>` for one account's evaluations. */
  subject?: string;
  /** Deliveries of one event before it goes to the dead-letter subject (default 5). */
  maxDeliver?: number;
  /** Pause before each redelivery after a handler failed, in ms; the last repeats (default 1 s, 5 s, 30 s, 2 min). */
  backoffMs?: number[];
  /** How long a handler may run before JetStream delivers its event again (default 30 s). */
  ackWaitMs?: number;
  /** Where an event goes after maxDeliver failures (default `assay-dead-letter.<durable>`). */
  deadLetterSubject?: string;
}

/** What a handler can ask of its event (`@Ctx() context: AssayEventContext`). */
export class AssayEventContext extends BaseRpcContext<[JsMsg]> {
  /** The JetStream message: subject, headers, `info.deliveryCount`… */
  getMessage(): JsMsg {
    return this.args[0];
  }
}

/**
 * A Nest microservice transport that receives Assay's change events from NATS JetStream
 * (Nest's own NATS transport speaks core NATS only). Handlers are `@EventPattern(type)`.
 * It binds a durable consumer to stream ASSAY and hands events over one at a time, in
 * order. An event is acknowledged only once its handler's Promise or Observable completes;
 * when the handler throws, it is handed over again after a backoff, and after `maxDeliver`
 * tries it is published to the dead-letter subject and dropped from the consumer. An event
 * of a type no handler takes is acknowledged. `close()` stops taking events, lets the one
 * in hand finish and be acknowledged, then drains the connection.
 */
export class AssayEventsTransport extends Server implements CustomTransportStrategy {
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private readonly maxDeliver: number;
  private readonly backoffMs: number[];
  private readonly deadLetterSubject: string;

  constructor(private readonly options: AssayEventsOptions) {
    super();
    this.maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
    this.backoffMs = options.backoffMs?.length ? options.backoffMs : DEFAULT_BACKOFF_MS;
    this.deadLetterSubject = options.deadLetterSubject ?? `assay-dead-letter.${options.durable}`;
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      const servers =
        typeof this.options.servers === 'string'
          ? this.options.servers.split(',')
          : this.options.servers;
      this.nc = await connect({ servers, name: `assay-events-${this.options.durable}` });
      const jsm = await jetstreamManager(this.nc);
      await ensureStream(jsm, ASSAY_STREAM, 'assay.>');
      await ensureStream(jsm, DEAD_LETTER_STREAM, 'assay-dead-letter.>');
      const config = {
        durable_name: this.options.durable,
        filter_subject: this.options.subject ?? 'assay.>',
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      };
      try {
        await jsm.consumers.add(ASSAY_STREAM, config);
      } catch {
        // It exists with other settings: those that may change, change.
        await jsm.consumers.update(ASSAY_STREAM, this.options.durable, {
          ack_wait: config.ack_wait,
          filter_subject: config.filter_subject,
        });
      }
      this.js = jetstream(this.nc);
      const consumer = await this.js.consumers.get(ASSAY_STREAM, this.options.durable);
      this.messages = await consumer.consume();
    } catch (err) {
      callback(err);
      return;
    }
    this.loop = (async () => {
      for await (const m of this.messages!) await this.handle(m);
    })();
    callback();
  }

  /** Stops taking events, lets the one in hand finish, then drains the connection. */
  async close(): Promise<void> {
    await this.messages?.close();
    await this.loop?.catch(() => undefined);
    if (this.nc && !this.nc.isClosed()) await this.nc.drain();
  }

  on(): void {
    throw new Error('AssayEventsTransport has no events of its own to listen to');
  }

  unwrap<T>(): T {
    return this.nc as T;
  }

  private async handle(m: JsMsg): Promise<void> {
    let event: AnyAssayEvent;
    try {
      event = m.json<AnyAssayEvent>();
    } catch (err) {
      return this.deadLetter(m, err);
    }
    const handler = this.getHandlerByPattern(event.type);
    if (!handler) {
      m.ack();
      return;
    }
    try {
      // Nest hands back what the handler did as an Observable, its errors inside it.
      await lastValueFrom(
        this.transformToObservable(await handler(event, new AssayEventContext([m]))),
        { defaultValue: undefined },
      );
    } catch (err) {
      const tries = m.info.deliveryCount;
      if (tries >= this.maxDeliver) return this.deadLetter(m, err);
      m.nak(this.backoffMs[Math.min(tries, this.backoffMs.length) - 1]);
      return;
    }
    m.ack();
  }

  /** Publishes the event to the dead-letter subject, with why, then drops it for good. */
  private async deadLetter(m: JsMsg, err: unknown): Promise<void> {
    const h = headers();
    h.set('Assay-Subject', m.subject);
    h.set('Assay-Durable', this.options.durable);
    h.set('Assay-Deliveries', String(m.info.deliveryCount));
    h.set('Assay-Error', messageOf(err).slice(0, 500));
    try {
      await this.js!.publish(this.deadLetterSubject, m.data, { headers: h });
    } catch (publishErr) {
      // Not kept anywhere yet: JetStream hands it over again.
      this.logger.error(`Dead-lettering ${m.subject} failed: ${String(publishErr)}`);
      m.nak(this.backoffMs[this.backoffMs.length - 1]);
      return;
    }
    this.logger.warn(
      `An event on ${m.subject} failed ${m.info.deliveryCount} times; it went to ${this.deadLetterSubject}`,
    );
    m.term();
  }
}

/** A handler's failure in words: Nest hands errors over as `{status, message}` objects. */
function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string') return message;
  return JSON.stringify(err) ?? String(err);
}

async function ensureStream(
  jsm: Awaited<ReturnType<typeof jetstreamManager>>,
  name: string,
  subjects: string,
): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch {
    try {
      await jsm.streams.add({ name, subjects: [subjects] });
    } catch {
      await jsm.streams.info(name); // made meanwhile by another consumer or the relay
    }
  }
}
