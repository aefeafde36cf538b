import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import {
  ASSAY_OPTIONS,
  type AssayModuleOptions,
  DEFAULT_EVENTS_RETENTION_DAYS,
} from '../assay-options.js';
import { eventsAfter, toEvent } from '../events/event-store.js';
import { Rounds } from '../events/rounds.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { pauseBefore } from './retry-schedule.js';
import { type WebhookConfig, webhookConfig } from './webhook-options.js';
import { type SendOutcome, WebhookSender } from './webhook-sender.js';

/** How often each instance looks for endpoints with work. */
export const WEBHOOK_TICK_MS = 50;
/** The most endpoints one instance delivers to at once. */
export const MAX_ACTIVE_ENDPOINTS = 64;
/** Events looked at, and deliveries taken, per step of one endpoint. */
const STEP = 500;
/**
 * While an endpoint's oldest delivery waits for its retry, how often the events that come
 * meanwhile are recorded as owed to it: a receiver that is down costs one step a second
 * rather than one each round.
 */
export const WAITING_FAN_OUT_MS = 1000;
/** What an endpoint's results are recorded after at the latest (and its lease renewed). */
export const FLUSH_MS = 100;
const MAX_BACKOFF_MS = 5000;
/** A lease lasts the receiver's timeout and this many seconds more. */
export const LEASE_MARGIN_S = 10;
const PURGE_EVERY_MS = 10 * 60_000;

/** An endpoint this instance holds the lease of. */
interface Leased {
  account_id: string;
  id: string;
  url: string;
  event_types: string[];
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  seen_position: string;
  enabled: boolean;
}

interface Pending {
  seq: string;
  event_id: string;
  event_type: string;
  body: string;
  attempts: number;
  due: boolean;
}

/** One attempt's result, waiting to be recorded. */
interface Result {
  delivery: Pending;
  at: Date;
  outcome: SendOutcome;
  /** succeeded, pending (with next), or failed for good. */
  status: 'succeeded' | 'pending' | 'failed';
  next: Date | null;
  /** Why the endpoint is to be disabled, when it is. */
  disable: string | null;
}

const LEASED_COLUMNS = `account_id, id, url, event_types, secret, previous_secret,
  previous_secret_expires_at, seen_position::text AS seen_position, enabled`;

/**
 * Delivers webhooks, in every instance, beside the NATS relay and on the same outbox. Each
 * round leases endpoints that have work (events past the place they have seen, taken at most
 * once every WAITING_FAN_OUT_MS while a retry is awaited, or a pending delivery due) for a
 * while, so that no other instance delivers to them meanwhile; a killed
 * instance's lease runs out and another takes over, sending what was not recorded again,
 * with the same webhook-id. Per endpoint, one POST at a time, in outbox order: a delivery
 * waiting for its retry holds back the ones after it. Endpoints go side by side, so a slow
 * or dead one holds up no other, and writes never wait for any of this.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly config: WebhookConfig;
  private readonly sender: WebhookSender;
  private readonly enabled: boolean;
  private readonly retentionDays: number;
  /** This instance's lease token: leases it holds carry it. */
  private readonly token = randomUUID();
  private readonly leaseSeconds: number;
  private readonly active = new Map<string, Promise<void>>();
  private readonly signers = new Map<string, Webhook>();
  private readonly rounds: Rounds;
  private stopped = false;
  private lastPurge = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ASSAY_OPTIONS) options: AssayModuleOptions,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.enabled = options.events !== false;
    this.config = webhookConfig(options.webhooks);
    this.sender = new WebhookSender(this.config);
    this.retentionDays = options.eventsRetentionDays ?? DEFAULT_EVENTS_RETENTION_DAYS;
    // Long enough for one POST and the recording of its result.
    this.leaseSeconds = this.config.timeoutMs / 1000 + LEASE_MARGIN_S;
    this.rounds = new Rounds(
      this.logger,
      'Webhook',
      async () => {
        await this.round();
        return false;
      },
      WEBHOOK_TICK_MS,
      MAX_BACKOFF_MS,
    );
  }

  onApplicationBootstrap(): void {
    if (this.enabled) this.rounds.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.rounds.stop();
    await Promise.all(this.active.values());
    // What this instance leased is free for the others at once.
    await this.db
      .query('UPDATE webhooks SET lease_until = NULL, lease_token = NULL WHERE lease_token = $1', [
        this.token,
      ])
      .catch(() => undefined);
    this.sender.close();
  }

  /** Leases endpoints with work, up to the most this instance serves, and starts on each. */
  private async round(): Promise<void> {
    if (Date.now() - this.lastPurge > PURGE_EVERY_MS) {
      this.lastPurge = Date.now();
      await this.purge();
    }
    const room = MAX_ACTIVE_ENDPOINTS - this.active.size;
    if (room <= 0) return;
    // A statement ending in SELECT: TypeORM answers an UPDATE with [rows, count].
    const leased = await this.db.query<Leased[]>(
      `WITH leased AS (
       UPDATE webhooks w
          SET lease_until = now() + make_interval(secs => $2), lease_token = $1
        WHERE (w.account_id, w.id) IN (
          SELECT h.account_id, h.id FROM webhooks h
            LEFT JOIN LATERAL (
              SELECT d.next_attempt_at <= now() AS due FROM webhook_deliveries d
               WHERE d.webhook_id = h.id AND d.status = 'pending'
               ORDER BY d.position LIMIT 1) head ON true
            LEFT JOIN LATERAL (
              SELECT d.created_at FROM webhook_deliveries d
               WHERE d.webhook_id = h.id AND d.status = 'pending'
               ORDER BY d.position DESC LIMIT 1) latest ON true
           WHERE h.enabled AND (h.lease_until IS NULL OR h.lease_until < now())
             AND (head.due
                  OR ((head.due IS NULL OR latest.created_at < now() - make_interval(secs => $4))
                      AND EXISTS (SELECT 1 FROM outbox_writes o
                                   WHERE o.account_id = h.account_id
                                     AND o.last_position > h.seen_position
                                     AND o.last_position IS NOT NULL)))
           ORDER BY h.lease_until NULLS FIRST
           LIMIT $3 FOR UPDATE OF h SKIP LOCKED)
       RETURNING ${LEASED_COLUMNS})
       SELECT * FROM leased`,
      [this.token, this.leaseSeconds, room, WAITING_FAN_OUT_MS / 1000],
    );
    for (const webhook of leased) {
      const work = this.serve(webhook)
        .catch((err: unknown) =>
          this.logger.warn(
            `Webhook ${webhook.id}: ${err instanceof Error ? err.message : String(err)}`,
          ),
        )
        .finally(() => this.active.delete(webhook.id));
      this.active.set(webhook.id, work);
    }
  }

  /** Works through one leased endpoint until it has nothing due, then lets its lease go. */
  private async serve(leased: Leased): Promise<void> {
    let webhook: Leased | undefined = leased;
    while (webhook && !this.stopped) {
      const seen = await this.fanOut(webhook);
      if (seen === undefined) {
        webhook = await this.renew(webhook, []);
        continue;
      }
      webhook.seen_position = seen.position;
      const pending = await this.pending(webhook);
      if (pending.length === 0 || !pending[0].due) {
        if (seen.more) continue;
        break;
      }
      const { next, stop } = await this.deliver(webhook, pending);
      webhook = next;
      if (stop && !seen.more) break;
    }
    await this.db.query(
      `UPDATE webhooks SET lease_until = NULL, lease_token = NULL
        WHERE account_id = $1 AND id = $2 AND lease_token = $3`,
      [leased.account_id, leased.id, this.token],
    );
  }

  /**
   * Turns the events past the endpoint's place into deliveries (those of its types) and
   * moves its place on, in one statement that holds only while the lease is still this
   * instance's and nobody moved the place meanwhile (a replay). Undefined when it did not
   * hold.
   */
  private async fanOut(webhook: Leased): Promise<{ position: string; more: boolean } | undefined> {
    const events = await eventsAfter(this.db, webhook.account_id, webhook.seen_position, STEP);
    if (events.length === 0) return { position: webhook.seen_position, more: false };
    const all = webhook.event_types.includes('*');
    const wanted = events.filter((e) => all || webhook.event_types.includes(e.type));
    const last = events[events.length - 1].position;
    const [{ moved }] = await this.db.query<{ moved: number }[]>(
      `WITH hook AS (
         SELECT id FROM webhooks
          WHERE account_id = $1 AND id = $2 AND lease_token = $3 AND seen_position = $4
          FOR UPDATE),
       owed AS (
         INSERT INTO webhook_deliveries (account_id, webhook_id, event_id, event_type, position,
                                         body, status, attempts, next_attempt_at, created_at)
         SELECT $1, $2, e.id, e.type, e.position, e.body, 'pending', 0, now(), now()
           FROM unnest($5::uuid[], $6::text[], $7::bigint[], $8::text[])
                AS e(id, type, position, body), hook
         ON CONFLICT (webhook_id, event_id) DO UPDATE
            SET status = 'pending', attempts = 0, next_attempt_at = now(),
                position = excluded.position
         RETURNING 1),
       moved AS (
         UPDATE webhooks w SET seen_position = $9 FROM hook
          WHERE w.account_id = $1 AND w.id = hook.id RETURNING 1)
       SELECT (SELECT count(*) FROM moved)::int AS moved`,
      [
        webhook.account_id,
        webhook.id,
        this.token,
        webhook.seen_position,
        wanted.map((e) => e.id),
        wanted.map((e) => e.type),
        wanted.map((e) => e.position),
        wanted.map((e) => JSON.stringify(toEvent(e))),
        last,
      ],
    );
    if (moved === 0) return undefined;
    return { position: last, more: events.length === STEP };
  }

  /**
   * The endpoint's oldest pending deliveries, in order; none while the oldest waits for its
   * retry. A receiver that is down piles up pending deliveries, and they are not read back
   * round after round only to find that the first is not due.
   */
  private pending(webhook: Leased): Promise<Pending[]> {
    return this.db.query<Pending[]>(
      `SELECT seq::text AS seq, event_id, event_type, body, attempts,
              next_attempt_at <= now() AS due
         FROM webhook_deliveries
        WHERE webhook_id = $1 AND status = 'pending'
          AND (SELECT h.next_attempt_at <= now() FROM webhook_deliveries h
                WHERE h.webhook_id = $1 AND h.status = 'pending'
                ORDER BY h.position LIMIT 1)
        ORDER BY position LIMIT $2`,
      [webhook.id, STEP],
    );
  }

  /**
   * POSTs the deliveries in order, one at a time, recording results every FLUSH_MS; stops
   * at the first failure (the ones after it wait for its retry) or at one not yet due.
   */
  private async deliver(
    webhook: Leased,
    pending: Pending[],
  ): Promise<{ next: Leased | undefined; stop: boolean }> {
    let results: Result[] = [];
    let flushed = Date.now();
    let current: Leased | undefined = webhook;
    for (const delivery of pending) {
      if (!delivery.due || this.stopped) break;
      const result = await this.attempt(current, delivery);
      results.push(result);
      if (result.status !== 'succeeded' || Date.now() - flushed >= FLUSH_MS) {
        current = await this.renew(current, results);
        results = [];
        flushed = Date.now();
        if (!current || result.status !== 'succeeded') return { next: current, stop: true };
      }
    }
    if (results.length > 0) current = await this.renew(current, results);
    return { next: current, stop: false };
  }

  /** One POST of one delivery, signed with the secrets that sign now. */
  private async attempt(webhook: Leased, delivery: Pending): Promise<Result> {
    const at = new Date();
    const headers = {
      'webhook-id': delivery.event_id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': this.signatures(webhook, delivery, at),
    };
    const outcome = await this.sender.send(webhook.url, headers, delivery.body);
    const attempt = delivery.attempts + 1;
    const pause = outcome.ok ? undefined : pauseBefore(this.config.retryScheduleMs, attempt);
    const disable = outcome.ok
      ? null
      : outcome.gone
        ? `The receiver answered 410 Gone at ${at.toISOString()} (event ${delivery.event_id}).`
        : pause === undefined
          ? `The retry schedule was exhausted at ${at.toISOString()}: ${attempt} attempts at ` +
            `event ${delivery.event_id} failed, the last with: ${outcome.error}`
          : null;
    const status = outcome.ok ? 'succeeded' : disable === null ? 'pending' : 'failed';
    this.metrics?.webhookDelivered(status === 'pending' ? 'retrying' : status);
    const next =
      status === 'pending' ? new Date(Date.now() + (outcome.retryAfterMs ?? pause!)) : null;
    return { delivery, at, outcome, status, next, disable };
  }

  /** A signer per secret, kept: making one decodes its key (a third of a signature's cost). */
  private signer(secret: string): Webhook {
    let signer = this.signers.get(secret);
    if (!signer) {
      if (this.signers.size >= MAX_ACTIVE_ENDPOINTS * 2) this.signers.clear();
      signer = new Webhook(secret);
      this.signers.set(secret, signer);
    }
    return signer;
  }

  /** `v1,…` for the current secret and, while it overlaps, the one before; space-separated. */
  private signatures(webhook: Leased, delivery: Pending, at: Date): string {
    const sign = (secret: string) => this.signer(secret).sign(delivery.event_id, at, delivery.body);
    const signatures = [sign(webhook.secret)];
    if (
      webhook.previous_secret !== null &&
      webhook.previous_secret_expires_at !== null &&
      new Date(webhook.previous_secret_expires_at).getTime() > at.getTime()
    ) {
      signatures.push(sign(webhook.previous_secret));
    }
    return signatures.join(' ');
  }

  /**
   * Records results (attempts, deliveries, a disabling) and renews the lease, in one
   * statement that holds only while the lease is still this instance's; answers the
   * endpoint as it is now (a new secret, a new URL), or undefined when the lease is gone
   * or the endpoint was disabled or deleted.
   */
  private async renew(webhook: Leased, results: Result[]): Promise<Leased | undefined> {
    const disable = results.find((r) => r.disable !== null)?.disable ?? null;
    const [row] = await this.db.query<Leased[]>(
      `WITH hook AS (
         UPDATE webhooks
            SET lease_until = now() + make_interval(secs => $4),
                enabled = enabled AND $5::text IS NULL,
                disabled_reason = coalesce($5, disabled_reason),
                updated_at = CASE WHEN $5::text IS NULL THEN updated_at ELSE now() END
          WHERE account_id = $1 AND id = $2 AND lease_token = $3
         RETURNING ${LEASED_COLUMNS}),
       r AS (
         SELECT * FROM unnest($6::bigint[], $7::uuid[], $8::text[], $9::int[], $10::timestamptz[],
                              $11::boolean[], $12::int[], $13::int[], $14::text[],
                              $15::timestamptz[], $16::text[])
                AS r(seq, event_id, event_type, attempt, attempted_at, succeeded, status_code,
                     latency_ms, error, next_attempt_at, status)),
       tried AS (
         INSERT INTO webhook_attempts (account_id, webhook_id, event_id, event_type, attempt,
                                       attempted_at, succeeded, status_code, latency_ms, error,
                                       next_attempt_at)
         SELECT $1, $2, r.event_id, r.event_type, r.attempt, r.attempted_at, r.succeeded,
                r.status_code, r.latency_ms, r.error, r.next_attempt_at
           FROM r, hook
         RETURNING 1),
       owed AS (
         UPDATE webhook_deliveries d
            SET status = r.status, attempts = r.attempt, next_attempt_at = r.next_attempt_at
           FROM r, hook
          WHERE d.seq = r.seq AND d.status = 'pending'
         RETURNING 1)
       SELECT * FROM hook`,
      [
        webhook.account_id,
        webhook.id,
        this.token,
        this.leaseSeconds,
        disable,
        results.map((r) => r.delivery.seq),
        results.map((r) => r.delivery.event_id),
        results.map((r) => r.delivery.event_type),
        results.map((r) => r.delivery.attempts + 1),
        results.map((r) => r.at.toISOString()),
        results.map((r) => r.outcome.ok),
        results.map((r) => r.outcome.statusCode),
        results.map((r) => r.outcome.latencyMs),
        results.map((r) => r.outcome.error),
        results.map((r) => r.next?.toISOString() ?? null),
        results.map((r) => r.status),
      ],
    );
    if (disable !== null) this.logger.warn(`Webhook ${webhook.id} disabled: ${disable}`);
    if (!row?.enabled) return undefined;
    return row;
  }

  /** Deletes attempts, and finished deliveries, older than the events they were of. */
  private async purge(): Promise<void> {
    await this.db.query(
      `WITH a AS (DELETE FROM webhook_attempts
                   WHERE attempted_at < now() - make_interval(days => $1))
       DELETE FROM webhook_deliveries
        WHERE created_at < now() - make_interval(days => $1) AND status <> 'pending'`,
      [this.retentionDays],
    );
  }
}
