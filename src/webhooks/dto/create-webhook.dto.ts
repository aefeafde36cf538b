import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
} from 'class-validator';
import { EVENT_TYPES } from '../../events/event-types.js';
import { Characters } from '../../common/validation.js';

/** The longest webhook URL, in characters. */
export const MAX_WEBHOOK_URL = 2048;
/** The most webhooks one account may register. */
export const MAX_WEBHOOKS_PER_ACCOUNT = 1000;
export const ALL_EVENTS = '*';
const EVENT_TYPE_CHOICES = [...EVENT_TYPES, ALL_EVENTS];

export class CreateWebhookDto {
  @ApiProperty({
    maxLength: MAX_WEBHOOK_URL,
    example: 'https://hooks.example.com/assay',
    description:
      'Where events are POSTed: https (http only with WEBHOOK_ALLOW_HTTP), no credentials, ' +
      'not a loopback, private or link-local address (unless WEBHOOK_ALLOW_PRIVATE).',
  })
  @IsString()
  @Characters(1, MAX_WEBHOOK_URL)
  url!: string;

  @ApiProperty({
    type: [String],
    enum: EVENT_TYPE_CHOICES,
    minItems: 1,
    example: ['evaluation.created', 'evaluation.updated'],
    description: 'The event types to send, or `["*"]` for all of them.',
  })
  @IsArray()
  @ArrayMinSize(1, { message: 'event_types must name at least one type, or be ["*"]' })
  @ArrayMaxSize(EVENT_TYPE_CHOICES.length)
  @ArrayUnique({ message: 'event_types must not repeat a type' })
  @IsIn(EVENT_TYPE_CHOICES, {
    each: true,
    message: `each of event_types must be one of ${EVENT_TYPE_CHOICES.join(', ')}`,
  })
  event_types!: string[];

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 2000, example: 'Dashboard' })
  @IsOptional()
  @IsString()
  @Characters(0, 2000)
  description?: string | null;
}

export class UpdateWebhookDto extends PartialType(CreateWebhookDto) {
  @ApiPropertyOptional({
    example: false,
    description:
      'false stops deliveries (pending ones wait); true starts them again where they stopped.',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class ReplayWebhookDto {
  @ApiProperty({
    description:
      'An event id, or an ISO 8601 instant: every kept event of a type the webhook takes, ' +
      'from that one (included) or that instant on, is sent again, oldest first.',
    example: '2026-11-25T16:00:00Z',
  })
  @IsString()
  @Characters(1, 64)
  since!: string;
}
