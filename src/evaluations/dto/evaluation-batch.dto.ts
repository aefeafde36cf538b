import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsObject,
  IsOptional,
} from 'class-validator';
import { UuidProperty } from '../../common/validation.js';
import { ErrorBodyDto } from '../../openapi/error-body.dto.js';
import { CreateRunEvaluationDto } from './create-run-evaluation.dto.js';
import { RunEvaluationDto } from './run-evaluation.dto.js';

export const MAX_BATCH = 1000;

@ApiSchema({ name: 'EvaluationBatchItem' })
export class EvaluationBatchItemDto extends CreateRunEvaluationDto {
  @UuidProperty({ description: 'The run the evaluation is of' })
  run_id!: string;
}

@ApiSchema({ name: 'EvaluationBatch' })
export class CreateEvaluationBatchDto {
  @ApiProperty({
    type: [EvaluationBatchItemDto],
    minItems: 1,
    maxItems: MAX_BATCH,
    example: [
      {
        run_id: '2b9c1f4e-3d7a-4c2e-9f1b-8a6d5e4c3b2a',
        evaluation_label_id: '5f0c1a52-8a43-4a53-9d61-6f0f1b7f6b11',
        value: 4,
        output_name: 'answer',
      },
    ],
  })
  @IsArray({ message: 'items must be an array of evaluations' })
  @ArrayMinSize(1, { message: 'items must hold 1 to 1000 evaluations' })
  @ArrayMaxSize(MAX_BATCH, { message: 'items must hold 1 to 1000 evaluations' })
  @IsObject({ each: true, message: 'each of items must be a JSON object' })
  items!: object[];

  @ApiPropertyOptional({
    default: true,
    example: true,
    description:
      'true: all or nothing (201, or one error naming every failing item). false: each valid ' +
      'item is written and the answer is a 207 with one result per item.',
  })
  @IsOptional()
  @IsBoolean({ message: 'atomic must be true or false' })
  atomic?: boolean;
}

@ApiSchema({ name: 'EvaluationBatchResult', description: 'What became of one item of a batch' })
export class EvaluationBatchResultDto {
  @ApiProperty({ description: 'The item’s index in the request' })
  index!: number;

  @ApiProperty({ description: 'The status the item would have had alone: 201, 400, 404, 422…' })
  status!: number;

  @ApiPropertyOptional({ type: RunEvaluationDto })
  evaluation?: RunEvaluationDto;

  @ApiPropertyOptional({ type: ErrorBodyDto })
  error?: ErrorBodyDto;
}
