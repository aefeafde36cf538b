import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'Event', description: 'A change of a resource of your account' })
export class AssayEventDto {
  @ApiProperty({ format: 'uuid', description: 'UUIDv7' })
  id!: string;

  @ApiProperty({
    example: 'evaluation.updated',
    description:
      'evaluation.created|updated|deleted, run.created|updated|deleted, ' +
      'label.created|updated|archived|deleted, evaluator.created|updated|disabled|deleted, ' +
      'review_queue.created|updated|archived|deleted|item_completed',
  })
  type!: string;

  @ApiProperty()
  account_id!: string;

  @ApiProperty({ format: 'date-time' })
  occurred_at!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'The resource as the API shows it; an evaluation adds its label_version, and an ' +
      'update old_value and old_label_version',
  })
  data!: object;
}
