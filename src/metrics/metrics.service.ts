import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { ApiError } from '../common/api-error.js';
import { metric } from './registry.js';

export const WRITE_OUTCOMES = ['created', 'updated', 'deleted', 'rejected'] as const;
export type WriteOutcome = (typeof WRITE_OUTCOMES)[number];
/** A webhook attempt: delivered, failed with a retry to come, or failed for good. */
export const WEBHOOK_OUTCOMES = ['succeeded', 'retrying', 'failed'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/** What Assay's own code counts: writes of evaluations, webhook attempts and the rate limit. */
@Injectable()
export class MetricsService {
  private readonly written = metric(
    'assay_evaluations_written_total',
    () =>
      new Counter({
        name: 'assay_evaluations_written_total',
        help: 'Writes of evaluations, by outcome (created, updated, deleted, rejected).',
        labelNames: ['outcome'],
      }),
  );
  private readonly refusals = metric(
    'assay_rate_limit_refusals_total',
    () =>
      new Counter({
        name: 'assay_rate_limit_refusals_total',
        help: 'Requests refused with 429 by the per-account rate limit.',
      }),
  );
  private readonly shared = metric(
    'assay_rate_limit_shared',
    () =>
      new Gauge({
        name: 'assay_rate_limit_shared',
        help: '1 while the rate limit is counted in Redis, shared by every instance; else 0.',
      }),
  );

  private readonly webhookAttempts = metric(
    'assay_webhook_deliveries_total',
    () =>
      new Counter({
        name: 'assay_webhook_deliveries_total',
        help: 'Webhook delivery attempts, by outcome (succeeded, retrying, failed for good).',
        labelNames: ['outcome'],
      }),
  );

  constructor() {
    // Every outcome is shown from the start, at 0, so that a rate over it is defined.
    for (const outcome of WRITE_OUTCOMES) this.written.inc({ outcome }, 0);
    for (const outcome of WEBHOOK_OUTCOMES) this.webhookAttempts.inc({ outcome }, 0);
  }

  /** Counts one webhook attempt by how it went. */
  webhookDelivered(outcome: WebhookOutcome): void {
    this.webhookAttempts.inc({ outcome });
  }

  /**
   * Counts a write of an evaluation that Assay refused (any ApiError: a rule, a missing run
   * or label) as `rejected`. A failure from below, such as the database being unreachable,
   * is no refusal; the HTTP metric shows it as a 5xx.
   */
  async refusalsOf<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      if (err instanceof ApiError) this.evaluationsWritten('rejected');
      throw err;
    }
  }

  /**
   * Counts `count` evaluations written (or refused) at once. Writes are counted once
   * committed (WriteScope.afterCommit), so that a write rolled back never counts.
   */
  evaluationsWritten(outcome: WriteOutcome, count = 1): void {
    if (count > 0) this.written.inc({ outcome }, count);
  }

  rateLimited(): void {
    this.refusals.inc();
  }

  /** 1 while the rate limit is counted in Redis (shared by every instance), 0 otherwise. */
  rateLimitShared(shared: boolean): void {
    this.shared.set(shared ? 1 : 0);
  }
}
