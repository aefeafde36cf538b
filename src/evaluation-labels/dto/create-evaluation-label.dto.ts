import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsNumber, IsOptional, IsString } from 'class-validator';
import { Characters, toBoolean } from '../../common/validation.js';
import { VALUE_TYPES, type ValueType } from '../evaluation-label.entity.js';

const finite = { allowNaN: false, allowInfinity: false };

/** The longest label name, in characters (code points). */
export const MAX_LABEL_NAME = 200;

export class CreateEvaluationLabelDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_LABEL_NAME, example: 'helpfulness' })
  @IsString()
  @Characters(1, MAX_LABEL_NAME)
  name!: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 2000, example: 'Did it help?' })
  @IsOptional()
  @IsString()
  @Characters(0, 2000)
  description?: string | null;

  @ApiProperty({ enum: VALUE_TYPES, example: 'continuous' })
  @IsIn(VALUE_TYPES, { message: `value_type must be one of ${VALUE_TYPES.join(', ')}` })
  value_type!: ValueType;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 0 })
  @IsOptional()
  @IsNumber(finite, { message: 'min_value must be a finite number' })
  min_value?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 5 })
  @IsOptional()
  @IsNumber(finite, { message: 'max_value must be a finite number' })
  max_value?: number | null;

  @ApiPropertyOptional({ type: [String], nullable: true, example: null })
  @IsOptional()
  @IsArray({ message: 'categories must be an array of strings' })
  @IsString({ each: true, message: 'categories must be an array of strings' })
  categories?: string[] | null;

  @ApiPropertyOptional({
    type: Boolean,
    nullable: true,
    example: true,
    description:
      'Which way is better, for comparisons (default true); null for categorical labels. ' +
      'May always change.',
  })
  @IsOptional()
  @IsBoolean({ message: 'higher_is_better must be true, false or null' })
  higher_is_better?: boolean | null;
}

export class UpdateEvaluationLabelDto extends PartialType(CreateEvaluationLabelDto) {}

export class ListEvaluationLabelsQueryDto {
  @ApiPropertyOptional({ description: 'Also list archived labels', default: false })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'include_archived must be true or false' })
  include_archived?: boolean;
}

export class UpdateEvaluationLabelQueryDto {
  @ApiPropertyOptional({
    description:
      'Only say what the change would do (a new version or not, and how many current ' +
      'evaluations the new definition would not allow); write nothing',
    default: false,
  })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'dry_run must be true or false' })
  dry_run?: boolean;
}
