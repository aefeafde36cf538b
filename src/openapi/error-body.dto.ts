import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

class ErrorDetailDto {
  @ApiProperty({ example: 'value' })
  field!: string;

  @ApiProperty({ example: 'value must be a number' })
  message!: string;
}

@ApiSchema({ name: 'Error', description: 'The body of every error answer.' })
export class ErrorBodyDto {
  @ApiProperty({ description: 'One sentence a person can act on' })
  error!: string;

  @ApiProperty({ description: 'Machine-readable snake_case code, one per kind of failure' })
  code!: string;

  @ApiPropertyOptional({ type: [ErrorDetailDto], description: 'Per-field problems' })
  details?: ErrorDetailDto[];

  @ApiProperty({ description: 'The id of this request, also in the logs' })
  request_id!: string;
}
