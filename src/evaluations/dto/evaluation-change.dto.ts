import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import {
  CHANGE_OPERATIONS,
  type ChangeOperation,
  type EvaluationChangeEntity,
} from '../evaluation-change.entity.js';

@ApiSchema({
  name: 'EvaluationChange',
  description: 'One create, update or delete of an evaluation.',
})
export class EvaluationChangeDto {
  @ApiProperty({ format: 'uuid' })
  evaluation_id!: string;

  @ApiProperty({ enum: CHANGE_OPERATIONS })
  operation!: ChangeOperation;

  @ApiProperty({ type: Number, nullable: true, description: 'null for a create' })
  old_value!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'null for a delete' })
  new_value!: number | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'The label version old_value was checked against; null for a create',
  })
  old_label_version!: number | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description:
      'The label version new_value was checked against (an update moves the evaluation to ' +
      'the current version); null for a delete',
  })
  new_label_version!: number | null;

  @ApiProperty({ type: String, nullable: true })
  changed_by!: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  changed_by_evaluator_id!: string | null;

  @ApiProperty({ format: 'date-time' })
  changed_at!: Date;
}

export function toEvaluationChangeDto(c: EvaluationChangeEntity): EvaluationChangeDto {
  return {
    evaluation_id: c.evaluationId,
    operation: c.operation,
    old_value: c.oldValue,
    new_value: c.newValue,
    old_label_version: c.oldLabelVersion,
    new_label_version: c.newLabelVersion,
    changed_by: c.changedBy,
    changed_by_evaluator_id: c.changedByEvaluatorId,
    changed_at: c.changedAt,
  };
}
