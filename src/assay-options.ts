import {
  type DynamicModule,
  Global,
  type InjectionToken,
  Module,
  type ModuleMetadata,
} from '@nestjs/common';
import type { JwtVerification } from './auth/jwt-options.js';
import type { WebhookOptions } from './webhooks/webhook-options.js';

export interface AssayModuleOptions {
  /** How Assay verifies bearer tokens on its routes. */
  auth: JwtVerification;
  /** How long an Idempotency-Key and its answer are kept, in seconds (default 24 h). */
  idempotencyTtlSeconds?: number;
  /** Whether writes record change events: the outbox, /v1/events, the relay (default true). */
  events?: boolean;
  /** How many days change events are kept for /v1/events (default 7). */
  eventsRetentionDays?: number;
  /** A NATS server (nats://host:port, comma-separated for several): events go to JetStream. */
  natsUrl?: string;
  /** Statement timeout of statistics queries, in seconds (default 30). */
  statsTimeoutSeconds?: number;
  /** How webhooks are delivered: retries, timeout, which addresses (defaults: §17). */
  webhooks?: WebhookOptions;
}

export interface AssayModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => AssayModuleOptions | Promise<AssayModuleOptions>;
  inject?: InjectionToken[];
}

export const ASSAY_OPTIONS = Symbol('assay:options');

export const DEFAULT_IDEMPOTENCY_TTL = 24 * 3600;
export const DEFAULT_EVENTS_RETENTION_DAYS = 7;
export const DEFAULT_STATS_TIMEOUT = 30;

/** Makes Assay's options injectable in each of its modules. */
@Global()
@Module({})
export class AssayOptionsModule {
  static forRootAsync(options: AssayModuleAsyncOptions): DynamicModule {
    return {
      module: AssayOptionsModule,
      imports: options.imports ?? [],
      providers: [
        { provide: ASSAY_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
      ],
      exports: [ASSAY_OPTIONS],
    };
  }
}
