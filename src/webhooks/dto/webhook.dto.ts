import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { WebhookAttemptEntity, WebhookEntity } from '../webhook.entity.js';

@ApiSchema({ name: 'Webhook', description: 'An endpoint that receives change events, signed.' })
export class WebhookDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  account_id!: string;

  @ApiProperty()
  url!: string;

  @ApiProperty({ type: [String] })
  event_types!: string[];

  @ApiProperty({ type: String, nullable: true })
  description!: string | null;

  @ApiProperty()
  enabled!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Why it is disabled: by its owner, a 410 Gone, or a spent retry schedule',
  })
  disabled_reason!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Until when the secret before the last rotation signs too',
  })
  previous_secret_expires_at!: Date | null;

  @ApiProperty({ type: String, nullable: true })
  created_by!: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at!: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updated_at!: Date | null;
}

@ApiSchema({
  name: 'WebhookWithSecret',
  description: 'A webhook with its signing secret, answered only when the secret is made.',
})
export class WebhookWithSecretDto extends WebhookDto {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The Standard Webhooks signing secret; it is not shown again',
  })
  secret!: string;
}

@ApiSchema({ name: 'WebhookAttempt', description: 'One POST of an event to a webhook.' })
export class WebhookAttemptDto {
  @ApiProperty({ format: 'uuid', description: 'The event id, sent as webhook-id' })
  event_id!: string;

  @ApiProperty()
  event_type!: string;

  @ApiProperty({ description: '1 for the first attempt at this event, 2 for its first retry…' })
  attempt!: number;

  @ApiProperty({ format: 'date-time' })
  attempted_at!: Date;

  @ApiProperty({ enum: ['succeeded', 'failed'] })
  status!: 'succeeded' | 'failed';

  @ApiProperty({
    type: Number,
    nullable: true,
    description: "The receiver's HTTP status; null when none came",
  })
  status_code!: number | null;

  @ApiProperty({ description: 'Milliseconds from sending to the answer (or the failure)' })
  latency_ms!: number;

  @ApiProperty({ type: String, nullable: true })
  error!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the event is tried again; null after a success or the last attempt',
  })
  next_attempt_at!: Date | null;
}

@ApiSchema({ name: 'WebhookReplay', description: 'A replay scheduled.' })
export class WebhookReplayDto {
  @ApiProperty({ format: 'uuid' })
  webhook_id!: string;

  @ApiProperty({ description: 'Kept events of its types from `since` on, to be sent again' })
  events!: number;
}

export function toWebhookDto(w: WebhookEntity): WebhookDto {
  return {
    id: w.id,
    account_id: w.accountId,
    url: w.url,
    event_types: w.eventTypes,
    description: w.description,
    enabled: w.enabled,
    disabled_reason: w.disabledReason,
    previous_secret_expires_at: w.previousSecretExpiresAt,
    created_by: w.createdBy,
    created_at: w.createdAt,
    updated_at: w.updatedAt,
  };
}

export function toWebhookAttemptDto(a: WebhookAttemptEntity): WebhookAttemptDto {
  return {
    event_id: a.eventId,
    event_type: a.eventType,
    attempt: a.attempt,
    attempted_at: a.attemptedAt,
    status: a.succeeded ? 'succeeded' : 'failed',
    status_code: a.statusCode,
    latency_ms: a.latencyMs,
    error: a.error,
    next_attempt_at: a.nextAttemptAt,
  };
}
