import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The change events of one write, as one row, written in the same transaction as the
 * change: a batch of 500 evaluations is one row to insert, position and mark sent, not 500.
 * `seq` is the order in which writers inserted them. Once the write is committed, the
 * sequencer gives its events the positions up to `lastPosition`, one each, in the order
 * they were made, so that readers who follow positions see every event exactly once, in
 * commit order per resource.
 */
@Entity({ name: 'outbox_writes' })
// Indexes over positions leave out writes still waiting for theirs: a new write enters two
// indexes (seq, unpositioned).
@Index('UQ_outbox_writes_last_position', ['lastPosition'], {
  unique: true,
  where: '"last_position" IS NOT NULL',
})
@Index('IDX_outbox_writes_account_position', ['accountId', 'lastPosition'], {
  where: '"last_position" IS NOT NULL',
})
@Index('IDX_outbox_writes_account_last_id', ['accountId', 'lastId'], {
  where: '"last_position" IS NOT NULL',
})
@Index('IDX_outbox_writes_unpositioned', ['seq'], { where: '"last_position" IS NULL' })
@Index('IDX_outbox_writes_unsent', ['lastPosition'], {
  where: '"sent_at" IS NULL AND "last_position" IS NOT NULL',
})
export class OutboxWriteEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq!: string;

  @Column({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  /** The ids (UUIDv7, in the order made) of the first and the last of its events. */
  @Column({ name: 'first_id', type: 'uuid' })
  firstId!: string;

  @Column({ name: 'last_id', type: 'uuid' })
  lastId!: string;

  @Column({ type: 'int' })
  count!: number;

  @Column({ name: 'occurred_at', type: 'timestamptz', precision: 3 })
  occurredAt!: Date;

  /**
   * Its events in order, each `{id, type, data}`, data the resource as the API shows it
   * (json keeps its key order).
   */
  @Column({ type: 'json' })
  events!: object[];

  @Column({ name: 'last_position', type: 'bigint', nullable: true })
  lastPosition!: string | null;

  /** The positions of its events the broker acknowledged while others of them failed. */
  @Column({ type: 'bigint', array: true, nullable: true })
  relayed!: string[] | null;

  /** When the broker had acknowledged all its events. */
  @Column({ name: 'sent_at', type: 'timestamptz', precision: 3, nullable: true })
  sentAt!: Date | null;
}
