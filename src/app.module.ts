import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AssayModule } from './assay.module.js';
import { JwtAuthGuard } from './auth/jwt-auth.guard.js';
import { jwtVerificationFromSettings } from './auth/jwt-options.js';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { Settings } from './config/settings.js';
import { SettingsModule } from './config/settings.module.js';
import {
  dataSourceOptions,
  describeDatabase,
  embeddedDataDir,
} from './database/data-source-options.js';
import { openMigrated } from './database/migrate.js';
import { createEmbeddedDatabaseApart } from './database/pglite-driver.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { rateLimitProviders } from './rate-limit/account-rate-limit.guard.js';
import type { WebhookOptions } from './webhooks/webhook-options.js';

/**
 * The Assay service: settings, its own database, the Assay modules and health. Here the JWT
 * guard is global, so any route is denied unless it is @Public(); requests are limited per
 * account (RATE_LIMIT); /metrics serves Prometheus unless METRICS_ENABLED is false; and the
 * error filter covers what no controller sees (unknown routes, bodies Fastify refuses).
 */
@Module({})
export class AppModule {
  /** `webhookOverrides` replaces what settings cannot carry (a resolver, in tests). */
  static forRoot(settings: Settings, webhookOverrides: WebhookOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SettingsModule.forRoot(settings),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions(settings),
            retryAttempts: 2,
            retryDelay: 1000,
          }),
          // Migrations run at every start, one instance at a time.
          dataSourceFactory: async (options) => {
            const dataDir = embeddedDataDir(settings);
            if (dataDir) await createEmbeddedDatabaseApart(dataDir);
            return openMigrated(options!, describeDatabase(settings));
          },
        }),
        AssayModule.forRootAsync({
          inject: [Settings],
          useFactory: (s: Settings) => ({
            auth: jwtVerificationFromSettings(s),
            idempotencyTtlSeconds: s.IDEMPOTENCY_TTL,
            events: s.EVENTS_ENABLED,
            eventsRetentionDays: s.EVENTS_RETENTION_DAYS,
            natsUrl: s.NATS_URL,
            statsTimeoutSeconds: s.DB_STATS_TIMEOUT,
            webhooks: {
              retrySchedule: s.WEBHOOK_RETRY_SCHEDULE,
              timeoutMs: s.WEBHOOK_TIMEOUT,
              secretOverlapSeconds: s.WEBHOOK_SECRET_OVERLAP,
              allowPrivate: s.WEBHOOK_ALLOW_PRIVATE,
              allowHttp: s.WEBHOOK_ALLOW_HTTP,
              ...webhookOverrides,
            },
          }),
        }),
        HealthModule,
        ...(settings.METRICS_ENABLED ? [MetricsModule] : []),
      ],
      providers: [
        // Global guards run in this order: the rate limit counts the account the JWT names.
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        ...rateLimitProviders(settings),
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}
