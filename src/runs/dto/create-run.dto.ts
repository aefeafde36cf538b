import { ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsObject, IsOptional, IsString } from 'class-validator';
import { Characters, HoldableInstant, UuidProperty } from '../../common/validation.js';
import { RUN_STATUSES, type JsonObject, type RunStatus } from '../run.entity.js';
import { nullableStatus } from './run.dto.js';

const jsonObject = (description: string, example: object) =>
  ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description,
    example,
  });

export class CreateRunDto {
  @UuidProperty({
    required: false,
    description: 'Your own id for the run; generated when left out',
    example: '3f2b8c1e-7d4a-4e6b-9a1c-2d5e8f0b7c39',
  })
  @IsOptional()
  id?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500, example: 'nightly #42' })
  @IsOptional()
  @IsString()
  @Characters(0, 500)
  name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500, example: 'support-triage' })
  @IsOptional()
  @IsString()
  @Characters(0, 500)
  workflow?: string | null;

  @ApiPropertyOptional({ ...nullableStatus, example: 'succeeded' })
  @IsOptional()
  @IsIn(RUN_STATUSES, { message: `status must be one of ${RUN_STATUSES.join(', ')}` })
  status?: RunStatus | null;

  @jsonObject('Inputs the run was given', { question: 'My router keeps dropping.' })
  @IsOptional()
  @IsObject({ message: 'inputs must be a JSON object' })
  inputs?: JsonObject | null;

  @jsonObject('Named outputs: output name → any JSON value', {
    answer: { text: 'Restart the router.', confidence: 0.8 },
  })
  @IsOptional()
  @IsObject({ message: 'outputs must be a JSON object' })
  outputs?: JsonObject | null;

  @jsonObject('Free-form metadata', { model: 'gpt-x', commit: 'a1b2c3d' })
  @IsOptional()
  @IsObject({ message: 'metadata must be a JSON object' })
  metadata?: JsonObject | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-11-24T16:00:00.000Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'completed_at must be an ISO 8601 date-time' })
  @HoldableInstant()
  completed_at?: string | null;
}

export class UpdateRunDto extends PartialType(OmitType(CreateRunDto, ['id'] as const)) {}
