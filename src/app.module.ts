import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from './auth/auth.module.js';
import { jwtVerificationFromSettings } from './auth/jwt-options.js';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { createValidationPipe } from './common/validation.js';
import { Settings } from './config/settings.js';
import { SettingsModule } from './config/settings.module.js';
import { dataSourceOptions } from './database/data-source-options.js';
import { EvaluationLabelsModule } from './evaluation-labels/evaluation-labels.module.js';
import { EvaluationsModule } from './evaluations/evaluations.module.js';
import { HealthModule } from './health/health.module.js';
import { RunsModule } from './runs/runs.module.js';

/** The Assay service: settings, database, auth, the three resources and health. */
@Module({})
export class AppModule {
  static forRoot(settings: Settings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SettingsModule.forRoot(settings),
        TypeOrmModule.forRoot({
          ...dataSourceOptions(settings),
          migrationsRun: true,
          retryAttempts: 2,
          retryDelay: 1000,
        }),
        AuthModule.forRoot({ useFactory: jwtVerificationFromSettings, inject: [Settings] }),
        RunsModule,
        EvaluationLabelsModule,
        EvaluationsModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
