import {
  type DynamicModule,
  type InjectionToken,
  Module,
  type ModuleMetadata,
} from '@nestjs/common';
import { EvaluationLabelsModule } from '../evaluation-labels/evaluation-labels.module.js';
import { EvaluationListController } from './evaluation-list.controller.js';
import { EvaluationListService } from './evaluation-list.service.js';
import { StatsController } from './stats.controller.js';
import { STATS_OPTIONS, type StatsOptions } from './stats.options.js';
import { StatsService } from './stats.service.js';

export interface StatsModuleOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => StatsOptions | Promise<StatsOptions>;
  inject?: InjectionToken[];
}

/** Statistics, comparisons, and evaluations listed and exported across runs. */
@Module({})
export class StatsModule {
  static forRoot(options: StatsModuleOptions): DynamicModule {
    return {
      module: StatsModule,
      imports: [...(options.imports ?? []), EvaluationLabelsModule],
      controllers: [StatsController, EvaluationListController],
      providers: [
        { provide: STATS_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        StatsService,
        EvaluationListService,
      ],
      exports: [StatsService, EvaluationListService],
    };
  }
}
