// The package entry `assay/events`, for services that consume Assay's change events.
export {
  type AnyAssayEvent,
  type AssayEventOf,
  EVENT_TYPES,
  type EventData,
  type EventType,
} from './event-types.js';
export {
  ASSAY_STREAM,
  AssayEventContext,
  AssayEventsTransport,
  type AssayEventsOptions,
  DEAD_LETTER_STREAM,
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_DELIVER,
} from './jetstream-transport.js';
export { subjectToken } from './nats-publisher.js';
