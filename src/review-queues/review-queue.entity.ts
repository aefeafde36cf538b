import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A queue of runs (or outputs, or fields of them) for people to review, label by label. */
@Entity({ name: 'review_queues' })
@Index('IDX_review_queues_order', ['accountId', 'createdAt', 'id'])
export class ReviewQueueEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'text', nullable: true })
  instructions!: string | null;

  /** The labels every review gives a value for, in the order the queue shows them. */
  @Column({ name: 'label_ids', type: 'jsonb' })
  labelIds!: string[];

  @Column({ name: 'reviews_per_item', type: 'integer' })
  reviewsPerItem!: number;

  @Column({ name: 'reservation_seconds', type: 'integer' })
  reservationSeconds!: number;

  @Column({ name: 'archived_at', type: 'timestamptz', precision: 3, nullable: true })
  archivedAt!: Date | null;

  @Column({ name: 'created_by', type: 'text', nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, nullable: true })
  updatedAt!: Date | null;
}
