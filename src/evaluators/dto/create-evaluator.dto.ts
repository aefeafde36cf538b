import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsIn, IsObject, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import type { JsonObject } from '../../runs/run.entity.js';
import { EVALUATOR_KINDS, type EvaluatorKind } from '../evaluator.entity.js';

export class CreateEvaluatorDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'helpfulness-judge' })
  @IsString()
  @Length(1, 200, { message: 'name must be 1 to 200 characters long' })
  name!: string;

  @ApiProperty({ enum: EVALUATOR_KINDS, example: 'llm_judge' })
  @IsIn(EVALUATOR_KINDS, { message: `kind must be one of ${EVALUATOR_KINDS.join(', ')}` })
  kind!: EvaluatorKind;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: 2000,
    example: 'Rates how helpful an answer is, 0 to 5',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 200, example: '2026-11-01' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  version?: string | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { model: 'gpt-x', prompt: 'v3' },
  })
  @IsOptional()
  @IsObject({ message: 'metadata must be a JSON object' })
  metadata?: JsonObject | null;
}

export class UpdateEvaluatorDto extends PartialType(CreateEvaluatorDto) {}
