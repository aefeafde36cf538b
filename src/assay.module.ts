import {
  type DynamicModule,
  type InjectionToken,
  Module,
  type ModuleMetadata,
} from '@nestjs/common';
import { AuthModule } from './auth/auth.module.js';
import type { JwtVerification } from './auth/jwt-options.js';
import { EvaluationLabelsModule } from './evaluation-labels/evaluation-labels.module.js';
import { EvaluationsModule } from './evaluations/evaluations.module.js';
import { RunsModule } from './runs/runs.module.js';
import { StatsModule } from './stats/stats.module.js';
import { DEFAULT_STATS_TIMEOUT_MS } from './stats/stats.options.js';

export interface AssayModuleOptions {
  /** How Assay verifies bearer tokens on its routes. */
  auth: JwtVerification;
  /** Statement timeout of statistics queries, in milliseconds (default 30 s). */
  statsTimeoutMs?: number;
}

export interface AssayModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => AssayModuleOptions | Promise<AssayModuleOptions>;
  inject?: InjectionToken[];
}

/**
 * Assay's runs, evaluation labels and evaluations, for any Nest app. It uses the host's
 * default TypeORM DataSource, which must include ASSAY_ENTITIES and run ASSAY_MIGRATIONS.
 * Its routes carry their own guard, validation and error body; nothing global is installed.
 */
@Module({})
export class AssayModule {
  static forRoot(options: AssayModuleOptions): DynamicModule {
    return AssayModule.forRootAsync({ useFactory: () => options });
  }

  static forRootAsync(options: AssayModuleAsyncOptions): DynamicModule {
    return {
      module: AssayModule,
      imports: [
        AuthModule.forRoot({
          imports: options.imports,
          inject: options.inject,
          useFactory: async (...args: never[]) => (await options.useFactory(...args)).auth,
        }),
        RunsModule,
        EvaluationLabelsModule,
        EvaluationsModule,
        StatsModule.forRoot({
          imports: options.imports,
          inject: options.inject,
          useFactory: async (...args: never[]) => ({
            timeoutMs:
              (await options.useFactory(...args)).statsTimeoutMs ?? DEFAULT_STATS_TIMEOUT_MS,
          }),
        }),
      ],
      exports: [RunsModule, EvaluationLabelsModule, EvaluationsModule, StatsModule],
    };
  }
}
