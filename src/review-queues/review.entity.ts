import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ReviewQueueItemEntity } from './review-queue-item.entity.js';

/** One person's review of an item: the evaluations it made, one per label of the queue. */
@Entity({ name: 'reviews' })
@Index('IDX_reviews_order', ['accountId', 'queueId', 'createdAt', 'id'])
@Index('UQ_reviews_reviewer', ['accountId', 'itemId', 'reviewer'], { unique: true })
export class ReviewEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'queue_id', type: 'uuid' })
  queueId!: string;

  @Column({ name: 'item_id', type: 'uuid' })
  itemId!: string;

  @Column({ type: 'text' })
  reviewer!: string;

  @Column({ type: 'text', nullable: true })
  comment!: string | null;

  /** The evaluations the review created, in the order of the queue's labels. */
  @Column({ name: 'evaluation_ids', type: 'uuid', array: true })
  evaluationIds!: string[];

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @ManyToOne(() => ReviewQueueItemEntity, { onDelete: 'CASCADE' })
  @JoinColumn([
    { name: 'account_id', referencedColumnName: 'accountId' },
    { name: 'item_id', referencedColumnName: 'id' },
  ])
  item?: ReviewQueueItemEntity;
}
