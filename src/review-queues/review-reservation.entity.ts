import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ReviewQueueItemEntity } from './review-queue-item.entity.js';

/** An item held for one reviewer until `expires_at`; it takes one of the item's places. */
@Entity({ name: 'review_reservations' })
export class ReviewReservationEntity {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 200 })
  accountId!: string;

  @PrimaryColumn({ name: 'item_id', type: 'uuid' })
  itemId!: string;

  @PrimaryColumn({ type: 'text' })
  reviewer!: string;

  @Column({ name: 'queue_id', type: 'uuid' })
  queueId!: string;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3 })
  expiresAt!: Date;

  @ManyToOne(() => ReviewQueueItemEntity, { onDelete: 'CASCADE' })
  @JoinColumn([
    { name: 'account_id', referencedColumnName: 'accountId' },
    { name: 'item_id', referencedColumnName: 'id' },
  ])
  item?: ReviewQueueItemEntity;
}
