import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An endpoint an account registered to receive its change events. `seenPosition` is the
 * outbox position up to which events have been looked at for it (matching ones became
 * deliveries);
 * `leaseUntil`/`leaseToken` say which instance delivers to it now, so that two never do.
 */
@Entity({ name: 'webhooks' })
@Index('IDX_webhooks_order', ['accountId', 'createdAt', 'id'])
export class WebhookEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  @Column({ name: 'event_types', type: 'text', array: true })
  eventTypes!: string[];

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'boolean' })
  enabled!: boolean;

  /** Why it was disabled: by its owner, a 410, or a spent retry schedule. */
  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason!: string | null;

  @Column({ type: 'varchar', length: 100 })
  secret!: string;

  /** The secret before the last rotation, which signs too until `previousSecretExpiresAt`. */
  @Column({ name: 'previous_secret', type: 'varchar', length: 100, nullable: true })
  previousSecret!: string | null;

  @Column({
    name: 'previous_secret_expires_at',
    type: 'timestamptz',
    precision: 3,
    nullable: true,
  })
  previousSecretExpiresAt!: Date | null;

  @Column({ name: 'seen_position', type: 'bigint' })
  seenPosition!: string;

  @Column({ name: 'lease_until', type: 'timestamptz', precision: 3, nullable: true })
  leaseUntil!: Date | null;

  @Column({ name: 'lease_token', type: 'uuid', nullable: true })
  leaseToken!: string | null;

  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, nullable: true })
  updatedAt!: Date | null;
}

/** What deliveries and attempts share: their place, and the endpoint and event they are of. */
abstract class WebhookEventRow {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  @Column({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 64 })
  eventType!: string;
}

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event owed to one endpoint: its body as sent (the same bytes, and so the same
 * signature input, on every attempt), whether it is still pending, and when it is next tried.
 */
@Entity({ name: 'webhook_deliveries' })
@Index('UQ_webhook_deliveries_event', ['webhookId', 'eventId'], { unique: true })
@Index('IDX_webhook_deliveries_pending', ['webhookId', 'position'], {
  where: `"status" = 'pending'`,
})
@Index('IDX_webhook_deliveries_created', ['createdAt'])
export class WebhookDeliveryEntity extends WebhookEventRow {
  /** The event's outbox position: deliveries of an endpoint go in this order. */
  @Column({ type: 'bigint' })
  position!: string;

  @Column({ type: 'text' })
  body!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: DeliveryStatus;

  @Column({ type: 'int' })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', precision: 3, nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;
}

/** One POST to a receiver, and how it went. */
@Entity({ name: 'webhook_attempts' })
@Index('IDX_webhook_attempts_webhook', ['accountId', 'webhookId', 'seq'])
@Index('IDX_webhook_attempts_attempted', ['attemptedAt'])
export class WebhookAttemptEntity extends WebhookEventRow {
  /** 1 for the first attempt at this event, 2 for the first retry… */
  @Column({ type: 'int' })
  attempt!: number;

  @Column({ name: 'attempted_at', type: 'timestamptz', precision: 3 })
  attemptedAt!: Date;

  @Column({ type: 'boolean' })
  succeeded!: boolean;

  /** The receiver's HTTP status; null when none came (refused, timed out, unreachable). */
  @Column({ name: 'status_code', type: 'int', nullable: true })
  statusCode!: number | null;

  @Column({ name: 'latency_ms', type: 'int' })
  latencyMs!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** When the event is tried again; null after a success or the last attempt. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', precision: 3, nullable: true })
  nextAttemptAt!: Date | null;
}
