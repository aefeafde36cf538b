import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A change event, written in the same transaction as the change. `seq` is the order in
 * which writers inserted them; `position` is given once the event is committed (by the
 * sequencer, one at a time), so that readers who follow positions see every event exactly
 * once, in commit order per resource.
 */
@Entity({ name: 'outbox_events' })
@Index('UQ_outbox_events_id', ['id'], { unique: true })
@Index('UQ_outbox_events_position', ['position'], { unique: true })
@Index('IDX_outbox_events_account_position', ['accountId', 'position'])
@Index('IDX_outbox_events_unpositioned', ['seq'], { where: '"position" IS NULL' })
@Index('IDX_outbox_events_unsent', ['position'], { where: '"sent_at" IS NULL' })
export class OutboxEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  /** UUIDv7: its time order is the order events were made. */
  @Column({ type: 'uuid' })
  id!: string;

  @Column({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz', precision: 3 })
  occurredAt!: Date;

  /** The resource as the API shows it (json keeps its key order). */
  @Column({ type: 'json' })
  data!: object;

  @Column({ type: 'bigint', nullable: true })
  position!: string | null;

  @Column({ name: 'sent_at', type: 'timestamptz', precision: 3, nullable: true })
  sentAt!: Date | null;
}
