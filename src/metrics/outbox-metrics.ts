import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge, register } from 'prom-client';
import type { DataSource } from 'typeorm';
import { ASSAY_OPTIONS, type AssayModuleOptions } from '../assay-options.js';

export const OUTBOX_BACKLOG = 'assay_outbox_backlog';
export const OUTBOX_OLDEST_AGE = 'assay_outbox_oldest_event_age_seconds';
export const WEBHOOK_PENDING = 'assay_webhook_pending_deliveries';
export const WEBHOOK_OLDEST_AGE = 'assay_webhook_oldest_pending_age_seconds';
const NAMES = [OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, WEBHOOK_PENDING, WEBHOOK_OLDEST_AGE];

/**
 * The outbox's backlog and the age of its oldest waiting event, read when /metrics is
 * scraped: events not yet given their position, and with NATS_URL also those not yet
 * acknowledged by the broker. A growing age means the relay (or the broker) is stuck. The
 * same for webhook deliveries owed to enabled endpoints: a growing age means a receiver
 * keeps failing (or the delivery is stuck).
 */
@Injectable()
export class OutboxMetrics implements OnModuleInit, OnModuleDestroy {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ASSAY_OPTIONS) private readonly options: AssayModuleOptions,
  ) {}

  onModuleInit(): void {
    // The latest app's outbox is the one measured (tests start several apps in one process).
    for (const name of NAMES) register.removeSingleMetric(name);
    const waiting = this.options.natsUrl
      ? 'last_position IS NULL OR (sent_at IS NULL AND last_position IS NOT NULL)'
      : 'last_position IS NULL';
    const read = () =>
      this.db.query<{ backlog: number; age: number | null }[]>(
        `SELECT coalesce(sum(count - coalesce(cardinality(relayed), 0)), 0)::int AS backlog,
                extract(epoch FROM now() - min(occurred_at))::float8 AS age
           FROM outbox_writes WHERE ${waiting}`,
      );
    new Gauge({
      name: OUTBOX_BACKLOG,
      help: 'Change events waiting in the outbox (to be sequenced, or relayed with NATS_URL).',
      async collect() {
        this.set((await read())[0].backlog);
      },
    });
    new Gauge({
      name: OUTBOX_OLDEST_AGE,
      help: 'Seconds the oldest waiting event of the outbox has waited (0 when none waits).',
      async collect() {
        this.set((await read())[0].age ?? 0);
      },
    });
    const pending = () =>
      this.db.query<{ pending: number; age: number | null }[]>(
        `SELECT count(*)::int AS pending,
                extract(epoch FROM now() - min(d.created_at))::float8 AS age
           FROM webhook_deliveries d
           JOIN webhooks w ON w.id = d.webhook_id AND w.enabled
          WHERE d.status = 'pending'`,
      );
    new Gauge({
      name: WEBHOOK_PENDING,
      help: 'Webhook deliveries owed to enabled endpoints (waiting, or waiting for a retry).',
      async collect() {
        this.set((await pending())[0].pending);
      },
    });
    new Gauge({
      name: WEBHOOK_OLDEST_AGE,
      help: 'Seconds the oldest delivery owed to an enabled webhook has waited (0 when none).',
      async collect() {
        this.set((await pending())[0].age ?? 0);
      },
    });
  }

  onModuleDestroy(): void {
    for (const name of NAMES) register.removeSingleMetric(name);
  }
}
