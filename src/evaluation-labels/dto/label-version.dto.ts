import { ApiProperty, ApiSchema, PickType } from '@nestjs/swagger';
import type { EvaluationLabelVersionEntity } from '../evaluation-label-version.entity.js';
import { EvaluationLabelDto } from './evaluation-label.dto.js';

@ApiSchema({
  name: 'EvaluationLabelVersion',
  description: 'One version of a label’s scale, as its evaluations were checked against it.',
})
export class LabelVersionDto extends PickType(EvaluationLabelDto, [
  'value_type',
  'min_value',
  'max_value',
  'categories',
  'created_by',
  'created_at',
]) {
  @ApiProperty({ type: 'integer', minimum: 1 })
  version!: number;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description: 'Current evaluations (deleted ones excluded) validated against this version',
  })
  evaluation_count!: number;
}

export function toLabelVersionDto(
  v: EvaluationLabelVersionEntity & { evaluationCount: number },
): LabelVersionDto {
  return {
    version: v.version,
    value_type: v.valueType,
    min_value: v.minValue,
    max_value: v.maxValue,
    categories: v.categories,
    created_by: v.createdBy,
    created_at: v.createdAt,
    evaluation_count: v.evaluationCount,
  };
}

class OutsideDto {
  @ApiProperty({ type: 'integer', minimum: 0 })
  count!: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description:
      'Counts by reason: not_0_or_1, below_min_value, above_max_value, not_a_category_index',
    example: { above_max_value: 12 },
  })
  by_reason!: Record<string, number>;
}

@ApiSchema({
  name: 'LabelChangePreview',
  description: 'What a PATCH with ?dry_run=true would do; nothing is written.',
})
export class LabelChangePreviewDto {
  @ApiProperty({ description: 'Whether the change makes a new version of the scale' })
  new_version!: boolean;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'The label’s version after the change' })
  version!: number;

  @ApiProperty({
    type: [String],
    description: 'Why the change makes a new version; empty when it does not',
  })
  breaking_changes!: string[];

  @ApiProperty({
    type: OutsideDto,
    description: 'Current evaluations (of any version) the new definition would not allow',
  })
  outside!: OutsideDto;
}
