import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A change event, written in the same transaction as the change. `seq` is the order in
 * which writers inserted them; `position` is given once the event is committed (by the
 * sequencer, one at a time, from the sequence outbox_events_position_seq), so that readers who follow positions see every event exactly
 * once, in commit order per resource.
 */
@Entity({ name: 'outbox_events' })
@Index('UQ_outbox_events_id', ['id'], { unique: true })
// Indexes over positions leave out events still waiting for theirs: a new event enters three
// indexes (seq, id, unpositioned), not six.
@Index('UQ_outbox_events_position', ['position'], {
  unique: true,
  where: '"position" IS NOT NULL',
})
@Index('IDX_outbox_events_account_position', ['accountId', 'position'], {
  where: '"position" IS NOT NULL',
})
@Index('IDX_outbox_events_unpositioned', ['seq'], { where: '"position" IS NULL' })
@Index('IDX_outbox_events_unsent', ['position'], {
  where: '"sent_at" IS NULL AND "position" IS NOT NULL',
})
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
