import { type DynamicModule, Module } from '@nestjs/common';
import {
  ASSAY_OPTIONS,
  type AssayModuleAsyncOptions,
  type AssayModuleOptions,
  AssayOptionsModule,
} from './assay-options.js';
import { AuthModule } from './auth/auth.module.js';
import { EvaluationLabelsModule } from './evaluation-labels/evaluation-labels.module.js';
import { EvaluationsModule } from './evaluations/evaluations.module.js';
import { EvaluatorsModule } from './evaluators/evaluators.module.js';
import { EventsModule } from './events/events.module.js';
import { ReviewQueuesModule } from './review-queues/review-queues.module.js';
import { RunsModule } from './runs/runs.module.js';
import { assertOneNestCore } from './one-nest.js';
import { StatsModule } from './stats/stats.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
import { WritesModule } from './writes/writes.module.js';

export type { AssayModuleAsyncOptions, AssayModuleOptions };

/**
 * Assay's runs, evaluation labels, evaluations, evaluators and webhooks, for any Nest app. It uses
 * the host's default TypeORM DataSource, which must include ASSAY_ENTITIES and run
 * ASSAY_MIGRATIONS. Its routes carry their own guard, validation, write pipeline and error
 * body; nothing global is installed.
 */
@Module({})
export class AssayModule {
  static forRoot(options: AssayModuleOptions): DynamicModule {
    return AssayModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: AssayModuleAsyncOptions): DynamicModule {
    assertOneNestCore();
    return {
      module: AssayModule,
      imports: [
        AssayOptionsModule.forRootAsync(options),
        AuthModule.forRoot({
          inject: [ASSAY_OPTIONS],
          useFactory: (o: AssayModuleOptions) => o.auth,
        }),
        WritesModule,
        RunsModule,
        EvaluationLabelsModule,
        EvaluationsModule,
        EvaluatorsModule,
        EventsModule,
        StatsModule,
        ReviewQueuesModule,
        WebhooksModule,
      ],
      exports: [
        RunsModule,
        EvaluationLabelsModule,
        EvaluationsModule,
        EvaluatorsModule,
        EventsModule,
        StatsModule,
        ReviewQueuesModule,
        WebhooksModule,
      ],
    };
  }
}
