import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ReviewQueueEntity } from './review-queue.entity.js';

/**
 * One target of a queue: a run, one output of it, or one field inside that output. It counts
 * its reviews, so that a claim and a review read how full it is from the row they lock.
 */
@Entity({ name: 'review_queue_items' })
@Index('IDX_review_queue_items_order', ['accountId', 'queueId', 'createdAt', 'id'])
@Index('UQ_review_queue_items_target', ['accountId', 'queueId', 'target'], { unique: true })
@Index('IDX_review_queue_items_open', ['accountId', 'queueId', 'createdAt', 'id'], {
  where: '"completed_at" IS NULL',
})
export class ReviewQueueItemEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'queue_id', type: 'uuid' })
  queueId!: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId!: string;

  @Column({ name: 'output_name', type: 'text', nullable: true })
  outputName!: string | null;

  @Column({ name: 'field_path', type: 'text', nullable: true })
  fieldPath!: string | null;

  /** run, output and field as one JSON array: a target queued once, whatever is null. */
  @Column({ type: 'text' })
  target!: string;

  @Column({ type: 'integer' })
  reviews!: number;

  @Column({ name: 'completed_at', type: 'timestamptz', precision: 3, nullable: true })
  completedAt!: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @ManyToOne(() => ReviewQueueEntity, { onDelete: 'CASCADE' })
  @JoinColumn([
    { name: 'account_id', referencedColumnName: 'accountId' },
    { name: 'queue_id', referencedColumnName: 'id' },
  ])
  queue?: ReviewQueueEntity;
}
