import { ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { UuidProperty } from '../../common/validation.js';
import { RUN_STATUSES, type JsonObject, type RunStatus } from '../run.entity.js';

const jsonObject = (description: string) =>
  ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true, description });

export class CreateRunDto {
  @UuidProperty({
    required: false,
    description: 'Your own id for the run; generated when left out',
  })
  @IsOptional()
  id?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500, example: 'nightly #42' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500, example: 'support-triage' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  workflow?: string | null;

  @ApiPropertyOptional({ enum: RUN_STATUSES, nullable: true, example: 'succeeded' })
  @IsOptional()
  @IsIn(RUN_STATUSES, { message: `status must be one of ${RUN_STATUSES.join(', ')}` })
  status?: RunStatus | null;

  @jsonObject('Inputs the run was given')
  @IsOptional()
  @IsObject({ message: 'inputs must be a JSON object' })
  inputs?: JsonObject | null;

  @jsonObject('Named outputs: output name → any JSON value')
  @IsOptional()
  @IsObject({ message: 'outputs must be a JSON object' })
  outputs?: JsonObject | null;

  @jsonObject('Free-form metadata')
  @IsOptional()
  @IsObject({ message: 'metadata must be a JSON object' })
  metadata?: JsonObject | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'completed_at must be an ISO 8601 date-time' })
  completed_at?: string | null;
}

export class UpdateRunDto extends PartialType(OmitType(CreateRunDto, ['id'] as const)) {}
