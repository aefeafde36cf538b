import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { JsonObject } from '../../runs/run.entity.js';
import { EVALUATOR_KINDS, type EvaluatorEntity, type EvaluatorKind } from '../evaluator.entity.js';

@ApiSchema({
  name: 'Evaluator',
  description: 'An automated evaluator; tokens with its id as evaluator_id may write.',
})
export class EvaluatorDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  account_id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ enum: EVALUATOR_KINDS })
  kind!: EvaluatorKind;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty({ type: String, nullable: true })
  version!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  metadata!: JsonObject | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'Set when it was deleted after writing evaluations: its tokens may no longer write',
  })
  disabled_at!: Date | null;

  @ApiProperty({ type: String, nullable: true })
  created_by!: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at!: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updated_at!: Date | null;
}

export function toEvaluatorDto(e: EvaluatorEntity): EvaluatorDto {
  return {
    id: e.id,
    account_id: e.accountId,
    name: e.name,
    kind: e.kind,
    description: e.description,
    version: e.version,
    metadata: e.metadata,
    disabled_at: e.disabledAt,
    created_by: e.createdBy,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}
