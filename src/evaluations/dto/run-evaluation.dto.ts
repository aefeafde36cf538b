import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { shownInstant } from '../../database/instants.js';
import type { EvaluationEntity } from '../evaluation.entity.js';

@ApiSchema({ name: 'RunEvaluation' })
export class RunEvaluationDto {
  @ApiProperty({ format: 'uuid', description: 'Unique identifier for the run evaluation' })
  id!: string;

  @ApiProperty({ description: 'ID of the account that owns this evaluation' })
  account_id!: string;

  @ApiProperty({ format: 'uuid', description: 'ID of the run being evaluated' })
  run_id!: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Name of the output being evaluated',
  })
  output_name!: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'JSON path to the specific field being evaluated',
  })
  field_path!: string | null;

  @ApiProperty({ format: 'uuid', description: 'ID of the evaluation label used' })
  evaluation_label_id!: string;

  @ApiProperty({ type: Number, description: 'The evaluation value' })
  value!: number;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'ID of the user who created the evaluation',
  })
  created_by!: string | null;

  @ApiPropertyOptional({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'ID of the evaluator that created this evaluation',
  })
  created_by_evaluator_id!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'When the evaluation was created',
  })
  created_at!: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'ID of the user who last updated the evaluation',
  })
  updated_by!: string | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'When the evaluation was last updated',
  })
  updated_at!: string;
}

export function toRunEvaluationDto(e: EvaluationEntity): RunEvaluationDto {
  return {
    id: e.id,
    account_id: e.accountId,
    run_id: e.runId,
    output_name: e.outputName,
    field_path: e.fieldPath,
    evaluation_label_id: e.evaluationLabelId,
    value: e.value,
    created_by: e.createdBy,
    created_by_evaluator_id: e.createdByEvaluatorId,
    created_at: shownInstant(e.createdAt),
    updated_by: e.updatedBy,
    updated_at: shownInstant(e.updatedAt),
  };
}

/**
 * A RunEvaluation with the label version its value was checked against: Assay's own answers
 * (the cross-run list and its exports, events). The reference operations keep RunEvaluation.
 */
@ApiSchema({ name: 'RunEvaluationRecord' })
export class RunEvaluationRecordDto extends RunEvaluationDto {
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    description: 'The version of the label’s scale the value was checked against',
  })
  label_version!: number;
}

export const toRunEvaluationRecordDto = (e: EvaluationEntity): RunEvaluationRecordDto => ({
  ...toRunEvaluationDto(e),
  label_version: e.labelVersion,
});
