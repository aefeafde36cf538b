import type { LookupFunction } from 'node:net';
import {
  DEFAULT_WEBHOOK_RETRY_SCHEDULE,
  DEFAULT_WEBHOOK_SECRET_OVERLAP,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  parseRetrySchedule,
} from './retry-schedule.js';

export interface WebhookOptions {
  /** Pauses before each retry, as WEBHOOK_RETRY_SCHEDULE writes them (default 5s,5m,30m,2h,5h,10h,10h). */
  retrySchedule?: string;
  /** How long a receiver has to answer 2xx, in milliseconds (default 15000). */
  timeoutMs?: number;
  /** Seconds a rotated secret keeps signing beside the new one (default 86400). */
  secretOverlapSeconds?: number;
  /** Whether loopback, private and link-local receivers are allowed (default false). */
  allowPrivate?: boolean;
  /** Whether plain http receivers are allowed (default false). */
  allowHttp?: boolean;
  /** Resolves receivers' host names (default: the system's, dns.lookup). */
  lookup?: LookupFunction;
}

/** The options with every default filled in. */
export interface WebhookConfig {
  retryScheduleMs: number[];
  timeoutMs: number;
  secretOverlapSeconds: number;
  allowPrivate: boolean;
  allowHttp: boolean;
  lookup?: LookupFunction;
}

export function webhookConfig(options: WebhookOptions = {}): WebhookConfig {
  return {
    retryScheduleMs: parseRetrySchedule(options.retrySchedule ?? DEFAULT_WEBHOOK_RETRY_SCHEDULE),
    timeoutMs: options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
    secretOverlapSeconds: options.secretOverlapSeconds ?? DEFAULT_WEBHOOK_SECRET_OVERLAP,
    allowPrivate: options.allowPrivate ?? false,
    allowHttp: options.allowHttp ?? false,
    lookup: options.lookup,
  };
}
