import { jetstream, jetstreamManager, AckPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';

export interface AssayEventsOptions {
  servers: string;
  /** The durable consumer's name: one per consuming service, so each gets every event once. */
  durable: string;
  /** Which events, as a subject: `assay.>` for all, `assay.acme.evaluation.>` for one account's evaluations. */
  subject?: string;
}

/**
 * A Nest microservice transport that receives Assay's change events from NATS JetStream
 * (Nest's own NATS transport speaks core NATS only). Handlers are `@EventPattern(type)`;
 * an event is acknowledged once its handler returns, and redelivered if it throws.
 */
export class AssayEventsTransport extends Server implements CustomTransportStrategy {
  private nc?: NatsConnection;
  private messages?: ConsumerMessages;

  constructor(private readonly options: AssayEventsOptions) {
    super();
  }

  async listen(callback: () => void): Promise<void> {
    this.nc = await connect({ servers: this.options.servers.split(',') });
    const jsm = await jetstreamManager(this.nc);
    await jsm.consumers.add('ASSAY', {
      durable_name: this.options.durable,
      filter_subject: this.options.subject ?? 'assay.>',
      ack_policy: AckPolicy.Explicit,
    });
    const consumer = await jetstream(this.nc).consumers.get('ASSAY', this.options.durable);
    this.messages = await consumer.consume();
    callback();
    void (async () => {
      for await (const m of this.messages!) {
        const event = m.json<{ type: string }>();
        const handler = this.getHandlerByPattern(event.type);
        try {
          // Nest hands back what the handler did as an Observable, its errors inside it.
          if (handler)
            await lastValueFrom(this.transformToObservable(await handler(event)), {
              defaultValue: undefined,
            });
          m.ack();
        } catch {
          m.nak(1000);
        }
      }
    })();
  }

  async close(): Promise<void> {
    await this.messages?.close();
    await this.nc?.drain();
  }

  on(): void {
    throw new Error('AssayEventsTransport has no events of its own to listen to');
  }

  unwrap<T>(): T {
    return this.nc as T;
  }
}
