import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { ASSAY_OPTIONS, type AssayModuleOptions } from '../assay-options.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { eventsAfter, headPosition, positionOf, type StoredEvent, toEvent } from './event-store.js';
import type { AssayEvent } from './outbox.js';

const POLL_MS = 100;
const STREAM_BATCH = 500;
export const KEEP_ALIVE_MS = 15_000;

/** One event as a Server-Sent Events message. */
export const sseMessage = (e: AssayEvent) =>
  `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

/** Change events as readers get them: a JSON page at a time, or a live stream. */
@Injectable()
export class EventsService implements BeforeApplicationShutdown {
  private readonly stop = new AbortController();

  private readonly enabled: boolean;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ASSAY_OPTIONS) options: AssayModuleOptions,
  ) {
    this.enabled = options.events !== false;
  }

  /** 404 when this server records no events: there is nothing to read. */
  assertEnabled(): void {
    if (this.enabled) return;
    throw new ApiError(
      'events_disabled',
      'This server records no change events (EVENTS_ENABLED is false), so there are none to ' +
        'read; ask its operator to turn them on.',
    );
  }

  /** Open streams end before the server closes, so that shutdown never waits on them. */
  beforeApplicationShutdown(): void {
    this.stop.abort();
  }

  async page(
    principal: Principal,
    after: string | undefined,
    limit: number,
  ): Promise<{ items: AssayEvent[]; next?: string }> {
    const from = after === undefined ? '0' : await this.position(principal, after, '?after');
    const rows = await eventsAfter(this.db, principal.accountId, from, limit + 1);
    const items = rows.slice(0, limit).map(toEvent);
    return rows.length > limit ? { items, next: items[items.length - 1].id } : { items };
  }

  /**
   * Streams the account's events: after Last-Event-ID when given, else from now on. It
   * reads at most a batch ahead of what the client has taken (backpressure), says it is
   * alive every 15 s, and ends when the client goes or the server shuts down.
   */
  async stream(
    principal: Principal,
    lastEventId: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    let position =
      lastEventId === undefined
        ? await headPosition(this.db)
        : await this.position(principal, lastEventId.trim(), 'Last-Event-ID');
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
      'x-request-id': String(request.id),
    });
    res.write(': connected\n\n');
    const gone = new AbortController();
    request.raw.once('close', () => gone.abort());
    const ended = AbortSignal.any([gone.signal, this.stop.signal]);
    let quietSince = Date.now();
    while (!ended.aborted) {
      let batch: StoredEvent[] = [];
      try {
        batch = await eventsAfter(this.db, principal.accountId, position, STREAM_BATCH);
      } catch {
        // The database is away for now: the client keeps its place; try again shortly.
      }
      for (const event of batch) {
        position = event.position;
        if (!res.write(sseMessage(toEvent(event)))) {
          await once(res, 'drain', { signal: ended }).catch(() => undefined);
        }
      }
      if (batch.length > 0) quietSince = Date.now();
      if (batch.length === STREAM_BATCH) continue;
      if (Date.now() - quietSince >= KEEP_ALIVE_MS) {
        res.write(': keep-alive\n\n');
        quietSince = Date.now();
      }
      await sleep(POLL_MS, undefined, { signal: ended }).catch(() => undefined);
    }
    res.end();
  }

  private async position(principal: Principal, id: string, what: string): Promise<string> {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const position = uuid.test(id) ? await positionOf(this.db, principal.accountId, id) : null;
    if (position === null) {
      throw new ApiError(
        'invalid_cursor',
        `${what} ${id.slice(0, 64)} is not an event of your account that is still kept ` +
          '(events are kept EVENTS_RETENTION_DAYS days); start again without it.',
      );
    }
    return position;
  }
}
