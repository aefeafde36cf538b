import {
  ApiProperty,
  ApiPropertyOptional,
  ApiSchema,
  PartialType,
  PickType,
} from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { PageQueryDto } from '../../common/paging.js';
import { Characters, toBoolean, UUID_VERSION } from '../../common/validation.js';
import { CreateRunEvaluationDto } from '../../evaluations/dto/create-run-evaluation.dto.js';

export const MAX_QUEUE_LABELS = 20;
export const MAX_REVIEWS_PER_ITEM = 10;
export const DEFAULT_RESERVATION_SECONDS = 900;
export const MIN_RESERVATION_SECONDS = 60;
export const MAX_RESERVATION_SECONDS = 86_400;
export const MAX_QUEUE_ITEMS = 1000;
export const ITEM_STATUSES = ['pending', 'in_review', 'completed'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

export class CreateReviewQueueDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Support answers, week 49' })
  @IsString()
  @Characters(1, 200)
  name!: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 2000,
    example: 'Answers the support bot gave in week 49',
  })
  @IsOptional()
  @IsString()
  @Characters(0, 2000)
  description?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 20000,
    example: 'Read the whole answer before rating it.',
    description: 'What reviewers should know, shown with every item',
  })
  @IsOptional()
  @IsString()
  @Characters(0, 20000)
  instructions?: string | null;

  @ApiProperty({
    type: [String],
    format: 'uuid',
    minItems: 1,
    maxItems: MAX_QUEUE_LABELS,
    description: 'Labels of your account, not archived: every review gives one value for each',
    example: ['5f0c1a52-8a43-4a53-9d61-6f0f1b7f6b11'],
  })
  @IsArray({ message: 'label_ids must be an array of label ids' })
  @ArrayMinSize(1, { message: `label_ids must hold 1 to ${MAX_QUEUE_LABELS} label ids` })
  @ArrayMaxSize(MAX_QUEUE_LABELS, {
    message: `label_ids must hold 1 to ${MAX_QUEUE_LABELS} label ids`,
  })
  @IsUUID(UUID_VERSION, { each: true, message: 'each of label_ids must be a UUID' })
  label_ids!: string[];

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_REVIEWS_PER_ITEM,
    type: 'integer',
    example: 3,
    description: 'How many different people review each item (default 1)',
  })
  @IsOptional()
  @IsInt({ message: `reviews_per_item must be a whole number from 1 to ${MAX_REVIEWS_PER_ITEM}` })
  @Min(1, { message: `reviews_per_item must be a whole number from 1 to ${MAX_REVIEWS_PER_ITEM}` })
  @Max(MAX_REVIEWS_PER_ITEM, {
    message: `reviews_per_item must be a whole number from 1 to ${MAX_REVIEWS_PER_ITEM}`,
  })
  reviews_per_item?: number;

  @ApiPropertyOptional({
    minimum: MIN_RESERVATION_SECONDS,
    maximum: MAX_RESERVATION_SECONDS,
    type: 'integer',
    example: 900,
    description: `How long a claim holds an item for its reviewer (default ${DEFAULT_RESERVATION_SECONDS})`,
  })
  @IsOptional()
  @IsInt({ message: 'reservation_seconds must be a whole number from 60 to 86400' })
  @Min(MIN_RESERVATION_SECONDS, {
    message: 'reservation_seconds must be a whole number from 60 to 86400',
  })
  @Max(MAX_RESERVATION_SECONDS, {
    message: 'reservation_seconds must be a whole number from 60 to 86400',
  })
  reservation_seconds?: number;
}

export class UpdateReviewQueueDto extends PartialType(CreateReviewQueueDto) {}

@ApiSchema({ name: 'ReviewQueueItemTarget' })
export class QueueItemTargetDto {
  @ApiProperty({ type: String, format: 'uuid' })
  @IsUUID(UUID_VERSION, { message: 'run_id must be a UUID' })
  run_id!: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500, example: 'answer' })
  @IsOptional()
  @IsString()
  @Characters(0, 500)
  output_name?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 2000,
    example: '$.score',
    description: 'RFC 9535 JSONPath into the named output (or all outputs); `$.` may be left out',
  })
  @IsOptional()
  @IsString()
  @Characters(0, 2000)
  field_path?: string | null;
}

@ApiSchema({ name: 'ReviewQueueItemsAdd' })
export class AddQueueItemsDto {
  @ApiProperty({
    type: [QueueItemTargetDto],
    minItems: 1,
    maxItems: MAX_QUEUE_ITEMS,
    example: [
      { run_id: '2b9c1f4e-3d7a-4c2e-9f1b-8a6d5e4c3b2a' },
      { run_id: '2b9c1f4e-3d7a-4c2e-9f1b-8a6d5e4c3b2a', output_name: 'answer' },
    ],
  })
  @IsArray({ message: 'items must be an array of targets' })
  @ArrayMinSize(1, { message: `items must hold 1 to ${MAX_QUEUE_ITEMS} targets` })
  @ArrayMaxSize(MAX_QUEUE_ITEMS, { message: `items must hold 1 to ${MAX_QUEUE_ITEMS} targets` })
  @ValidateNested({ each: true })
  @Type(() => QueueItemTargetDto)
  items!: QueueItemTargetDto[];
}

export class ListQueueItemsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ITEM_STATUSES, description: 'Only items with this status' })
  @IsOptional()
  @IsIn(ITEM_STATUSES, { message: `status must be one of ${ITEM_STATUSES.join(', ')}` })
  status?: ItemStatus;
}

export class ListReviewQueuesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ default: false, description: 'Include archived queues' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'include_archived must be true or false' })
  include_archived?: boolean;
}

@ApiSchema({ name: 'ReviewEvaluationInput' })
export class ReviewEvaluationInputDto extends PickType(CreateRunEvaluationDto, [
  'evaluation_label_id',
  'value',
] as const) {}

@ApiSchema({ name: 'ReviewInput' })
export class CreateReviewDto {
  @ApiProperty({
    type: [ReviewEvaluationInputDto],
    minItems: 1,
    maxItems: MAX_QUEUE_LABELS,
    description: "Exactly one value for each of the queue's labels",
    example: [{ evaluation_label_id: '5f0c1a52-8a43-4a53-9d61-6f0f1b7f6b11', value: 1 }],
  })
  @IsArray({ message: 'evaluations must be an array' })
  @ArrayMinSize(1, { message: "evaluations must hold one value for each of the queue's labels" })
  @ArrayMaxSize(MAX_QUEUE_LABELS, {
    message: "evaluations must hold one value for each of the queue's labels",
  })
  @ValidateNested({ each: true })
  @Type(() => ReviewEvaluationInputDto)
  evaluations!: ReviewEvaluationInputDto[];

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 20000,
    example: 'Correct, but curt.',
  })
  @IsOptional()
  @IsString()
  @Characters(0, 20000)
  comment?: string | null;
}
