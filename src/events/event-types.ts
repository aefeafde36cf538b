import type { EvaluationLabelDto } from '../evaluation-labels/dto/evaluation-label.dto.js';
import type { RunEvaluationRecordDto } from '../evaluations/dto/run-evaluation.dto.js';
import type { ReviewQueueDto, ReviewQueueItemDto } from '../review-queues/dto/review-queue.dto.js';
import type { EvaluatorDto } from '../evaluators/dto/evaluator.dto.js';
import type { RunDto } from '../runs/dto/run.dto.js';

/** Every type of change event Assay writes (PRODUCT.md §12). */
export const EVENT_TYPES = [
  'evaluation.created',
  'evaluation.updated',
  'evaluation.deleted',
  'run.created',
  'run.updated',
  'run.deleted',
  'label.created',
  'label.updated',
  'label.archived',
  'label.deleted',
  'evaluator.created',
  'evaluator.updated',
  'evaluator.disabled',
  'evaluator.deleted',
  'review_queue.created',
  'review_queue.updated',
  'review_queue.archived',
  'review_queue.deleted',
  'review_queue.item_completed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** JSON as it travels: dates are ISO 8601 strings. */
type Wire<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};

/** What each type's `data` holds: the resource as the API shows it. */
export interface EventData {
  'evaluation.created': Wire<RunEvaluationRecordDto>;
  'evaluation.updated': Wire<RunEvaluationRecordDto> & {
    old_value: number;
    old_label_version: number;
  };
  'evaluation.deleted': Wire<RunEvaluationRecordDto>;
  'run.created': Wire<RunDto>;
  'run.updated': Wire<RunDto>;
  'run.deleted': Wire<RunDto>;
  'label.created': Wire<EvaluationLabelDto>;
  'label.updated': Wire<EvaluationLabelDto>;
  'label.archived': Wire<EvaluationLabelDto>;
  'label.deleted': Wire<EvaluationLabelDto>;
  'evaluator.created': Wire<EvaluatorDto>;
  'evaluator.updated': Wire<EvaluatorDto>;
  'evaluator.disabled': Wire<EvaluatorDto>;
  'evaluator.deleted': Wire<EvaluatorDto>;
  'review_queue.created': Wire<ReviewQueueDto>;
  'review_queue.updated': Wire<ReviewQueueDto>;
  'review_queue.archived': Wire<ReviewQueueDto>;
  'review_queue.deleted': Wire<ReviewQueueDto>;
  'review_queue.item_completed': Wire<ReviewQueueItemDto> & { review_ids: string[] };
}

/** One change event of type `T`, as SSE, the JSON list, NATS and webhooks carry it. */
export interface AssayEventOf<T extends EventType = EventType> {
  /** UUIDv7; a webhook's `webhook-id`, NATS's `Nats-Msg-Id`. */
  id: string;
  type: T;
  account_id: string;
  occurred_at: string;
  data: EventData[T];
}

/** Any change event, narrowed by its `type`. */
export type AnyAssayEvent = { [T in EventType]: AssayEventOf<T> }[EventType];
