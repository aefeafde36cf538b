import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import {
  VALUE_TYPES,
  type EvaluationLabelEntity,
  type ValueType,
} from '../evaluation-label.entity.js';

@ApiSchema({
  name: 'EvaluationLabel',
  description: 'What is judged, and which values an evaluation of it may take.',
})
export class EvaluationLabelDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  account_id!: string;

  @ApiProperty({ minLength: 1, maxLength: 200, example: 'helpfulness' })
  name!: string;

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty({ enum: VALUE_TYPES })
  value_type!: ValueType;

  @ApiProperty({ type: Number, nullable: true, description: 'continuous only' })
  min_value!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'continuous only' })
  max_value!: number | null;

  @ApiProperty({
    type: [String],
    nullable: true,
    description: 'categorical and ordinal only (ordinal: lowest first); a value is a 0-based index',
  })
  categories!: string[] | null;

  @ApiProperty({
    type: Boolean,
    nullable: true,
    description: 'Which way is better, for comparisons; null for categorical labels',
  })
  higher_is_better!: boolean | null;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    description:
      'The version of its scale new evaluations are checked against; a breaking change of ' +
      'value_type, min_value, max_value or categories while evaluations use the label makes ' +
      'the next one',
  })
  version!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  archived_at!: Date | null;

  @ApiProperty({ type: String, nullable: true })
  created_by!: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at!: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updated_at!: Date | null;
}

export function toEvaluationLabelDto(label: EvaluationLabelEntity): EvaluationLabelDto {
  return {
    id: label.id,
    account_id: label.accountId,
    name: label.name,
    description: label.description,
    value_type: label.valueType,
    min_value: label.minValue,
    max_value: label.maxValue,
    categories: label.categories,
    higher_is_better: label.higherIsBetter,
    version: label.version,
    archived_at: label.archivedAt,
    created_by: label.createdBy,
    created_at: label.createdAt,
    updated_at: label.updatedAt,
  };
}
