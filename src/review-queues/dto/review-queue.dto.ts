import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { RunEvaluationDto } from '../../evaluations/dto/run-evaluation.dto.js';
import type { ReviewQueueEntity } from '../review-queue.entity.js';
import { ITEM_STATUSES, type ItemStatus } from './create-review-queue.dto.js';

@ApiSchema({ name: 'ReviewQueue', description: 'A queue of runs for people to review' })
export class ReviewQueueDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  account_id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty({ type: String, nullable: true })
  instructions!: string | null;

  @ApiProperty({ type: [String], format: 'uuid' })
  label_ids!: string[];

  @ApiProperty({ type: 'integer' })
  reviews_per_item!: number;

  @ApiProperty({ type: 'integer' })
  reservation_seconds!: number;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Set when it was deleted after its first review: it takes no new work',
  })
  archived_at!: Date | null;

  @ApiProperty({ type: String, nullable: true })
  created_by!: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at!: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updated_at!: Date | null;
}

export function toReviewQueueDto(q: ReviewQueueEntity): ReviewQueueDto {
  return {
    id: q.id,
    account_id: q.accountId,
    name: q.name,
    description: q.description,
    instructions: q.instructions,
    label_ids: q.labelIds,
    reviews_per_item: q.reviewsPerItem,
    reservation_seconds: q.reservationSeconds,
    archived_at: q.archivedAt,
    created_by: q.createdBy,
    created_at: q.createdAt,
    updated_at: q.updatedAt,
  };
}

@ApiSchema({ name: 'ReviewQueueItem', description: 'A target of a review queue' })
export class ReviewQueueItemDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  queue_id!: string;

  @ApiProperty({ format: 'uuid' })
  run_id!: string;

  @ApiProperty({ type: String, nullable: true })
  output_name!: string | null;

  @ApiProperty({ type: String, nullable: true })
  field_path!: string | null;

  @ApiProperty({
    enum: ITEM_STATUSES,
    description:
      'completed: it has reviews_per_item reviews; in_review: some reviews or live ' +
      'reservations, not yet enough reviews; pending: neither',
  })
  status!: ItemStatus;

  @ApiProperty({ type: 'integer' })
  reviews!: number;

  @ApiProperty({ type: 'integer', description: 'Live reservations held on it now' })
  reserved!: number;

  @ApiProperty({ description: 'The run was deleted after it was queued: it is claimed no more' })
  run_deleted!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completed_at!: Date | null;

  @ApiProperty({ format: 'date-time' })
  created_at!: Date;
}

@ApiSchema({ name: 'ReviewQueueItemsAdded' })
export class QueueItemsAddedDto {
  @ApiProperty({ type: [ReviewQueueItemDto], description: 'Targets queued by this request' })
  added!: ReviewQueueItemDto[];

  @ApiProperty({
    type: [ReviewQueueItemDto],
    description: 'Targets that were already in the queue (or sent twice): left as they were',
  })
  already_queued!: ReviewQueueItemDto[];
}

@ApiSchema({ name: 'ReviewClaim', description: 'An item reserved for the caller' })
export class ClaimDto {
  @ApiProperty({ type: ReviewQueueItemDto })
  item!: ReviewQueueItemDto;

  @ApiProperty({ format: 'date-time', description: 'Until when the item is held for the caller' })
  expires_at!: Date;
}

@ApiSchema({ name: 'Review', description: "One person's review of an item" })
export class ReviewDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  queue_id!: string;

  @ApiProperty({ format: 'uuid' })
  item_id!: string;

  @ApiProperty({ description: "The reviewer: the token's sub" })
  reviewer!: string;

  @ApiProperty({ type: String, nullable: true })
  comment!: string | null;

  @ApiProperty({ type: [RunEvaluationDto], description: "In the order of the queue's labels" })
  evaluations!: RunEvaluationDto[];

  @ApiProperty({ description: 'Whether this review completed the item' })
  item_completed!: boolean;

  @ApiProperty({ format: 'date-time' })
  created_at!: Date;
}

@ApiSchema({ name: 'ReviewQueueStatusCounts' })
export class StatusCountsDto {
  @ApiProperty({ type: 'integer' })
  pending!: number;

  @ApiProperty({ type: 'integer' })
  in_review!: number;

  @ApiProperty({ type: 'integer' })
  completed!: number;

  @ApiProperty({ type: 'integer', description: 'Items whose run was deleted (also counted above)' })
  run_deleted!: number;

  @ApiProperty({ type: 'integer' })
  total!: number;
}

@ApiSchema({ name: 'ReviewerProgress' })
export class ReviewerProgressDto {
  @ApiProperty()
  reviewer!: string;

  @ApiProperty({ type: 'integer' })
  reviews!: number;

  @ApiProperty({ type: 'integer', description: 'Items reserved for the reviewer now' })
  reserved!: number;
}

@ApiSchema({ name: 'ReviewQueueProgress' })
export class ProgressDto {
  @ApiProperty({ type: StatusCountsDto })
  items!: StatusCountsDto;

  @ApiProperty({ type: 'integer' })
  reviews!: number;

  @ApiProperty({ type: [ReviewerProgressDto], description: 'By reviewer, most reviews first' })
  reviewers!: ReviewerProgressDto[];
}

export const ALPHA_METRICS = ['nominal', 'ordinal', 'interval'] as const;
export type AlphaMetric = (typeof ALPHA_METRICS)[number];

@ApiSchema({ name: 'LabelAgreement', description: "Krippendorff's alpha for one label" })
export class LabelAgreementDto {
  @ApiProperty({ format: 'uuid' })
  evaluation_label_id!: string;

  @ApiProperty({ enum: ALPHA_METRICS })
  metric!: AlphaMetric;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'null when not computable: fewer than 2 pairable values, or no variation',
  })
  alpha!: number | null;

  @ApiProperty({ type: 'integer', description: 'Items with at least two reviews of this label' })
  items!: number;

  @ApiProperty({ type: 'integer', description: 'Values on those items (pairable values)' })
  reviews!: number;

  @ApiProperty({ type: 'integer', description: 'Reviewers who gave any of those values' })
  reviewers!: number;
}

@ApiSchema({ name: 'ReviewQueueAgreement' })
export class AgreementDto {
  @ApiProperty({ format: 'uuid' })
  queue_id!: string;

  @ApiProperty({ type: [LabelAgreementDto], description: "In the order of the queue's labels" })
  labels!: LabelAgreementDto[];
}
