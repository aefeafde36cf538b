import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { AssayEvent } from './outbox.js';

export const STREAM = 'ASSAY';
const PUBLISH_TIMEOUT_MS = 5000;

/** What a subject token cannot carry, percent-encoded: `.`, `*`, `>`, whitespace, `%`. */
export function subjectToken(value: string): string {
  return value.replace(/[.*>%\s]/gu, (c) =>
    [...Buffer.from(c, 'utf8')]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}

export const subjectOf = (event: Pick<AssayEvent, 'account_id' | 'type'>) =>
  `assay.${subjectToken(event.account_id)}.${event.type}`;

/**
 * Publishes events to JetStream, each with its id as Nats-Msg-Id so that the broker drops
 * a duplicate, and resolves only once the broker acknowledged it. Makes the stream ASSAY
 * (subjects assay.>) when it is missing.
 */
export class NatsPublisher {
  private connection?: Promise<{ nc: NatsConnection; js: JetStreamClient }>;

  constructor(private readonly servers: string) {}

  async publish(event: AssayEvent): Promise<void> {
    const { js } = await this.connect();
    await js.publish(subjectOf(event), JSON.stringify(event), {
      msgID: event.id,
      timeout: PUBLISH_TIMEOUT_MS,
    });
  }

  async close(): Promise<void> {
    const pending = this.connection;
    this.connection = undefined;
    if (pending) await (await pending.catch(() => undefined))?.nc.close();
  }

  private connect() {
    this.connection ??= (async () => {
      const nc = await connect({
        servers: this.servers.split(','),
        timeout: PUBLISH_TIMEOUT_MS,
        maxReconnectAttempts: -1,
        name: 'assay-relay',
      });
      const jsm = await jetstreamManager(nc);
      try {
        await jsm.streams.info(STREAM);
      } catch {
        await jsm.streams.add({ name: STREAM, subjects: ['assay.>'] });
      }
      return { nc, js: jetstream(nc) };
    })().catch((err: unknown) => {
      this.connection = undefined; // tried again on the next round
      throw err;
    });
    return this.connection;
  }
}
