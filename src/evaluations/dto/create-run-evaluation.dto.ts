import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsNumber, IsOptional, IsString } from 'class-validator';
import { PageQueryDto } from '../../common/paging.js';
import { Characters, UuidProperty } from '../../common/validation.js';

export class CreateRunEvaluationDto {
  @UuidProperty({ example: '5f0c1a52-8a43-4a53-9d61-6f0f1b7f6b11' })
  evaluation_label_id!: string;

  @ApiPropertyOptional({ type: String, maxLength: 500, example: 'answer' })
  @IsOptional()
  @IsString()
  @Characters(0, 500)
  output_name?: string;

  @ApiPropertyOptional({
    type: String,
    maxLength: 2000,
    example: '$.score',
    description: 'RFC 9535 JSONPath into the named output (or all outputs); `$.` may be left out',
  })
  @IsOptional()
  @IsString()
  @Characters(0, 2000)
  field_path?: string;

  @ApiProperty({ type: Number, example: 4.5, description: 'Must fit the label' })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'value must be a finite number' })
  value!: number;
}

export class UpdateRunEvaluationDto extends PickType(CreateRunEvaluationDto, ['value'] as const) {}

export class ListRunEvaluationsQueryDto extends PageQueryDto {
  @UuidProperty({ required: false, description: 'Only evaluations of this label' })
  @IsOptional()
  evaluation_label_id?: string;

  @ApiPropertyOptional({ description: 'Only evaluations of this output' })
  @IsOptional()
  @IsString()
  output_name?: string;

  @ApiPropertyOptional({ description: 'Only evaluations created by this user' })
  @IsOptional()
  @IsString()
  created_by?: string;

  @UuidProperty({ required: false, description: 'Only evaluations created by this evaluator' })
  @IsOptional()
  created_by_evaluator_id?: string;
}
