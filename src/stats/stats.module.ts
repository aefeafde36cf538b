import { Module } from '@nestjs/common';
import { EvaluationLabelsModule } from '../evaluation-labels/evaluation-labels.module.js';
import { EvaluatorsModule } from '../evaluators/evaluators.module.js';
import { EvaluationListController } from './evaluation-list.controller.js';
import { EvaluationListService } from './evaluation-list.service.js';
import { OverviewController } from './overview.controller.js';
import { StatsController } from './stats.controller.js';
import { StatsService } from './stats.service.js';

/**
 * Statistics, comparisons, the overviews of labels and evaluators, and evaluations listed and
 * exported across runs.
 */
@Module({
  imports: [EvaluationLabelsModule, EvaluatorsModule],
  controllers: [StatsController, OverviewController, EvaluationListController],
  providers: [StatsService, EvaluationListService],
  exports: [StatsService, EvaluationListService],
})
export class StatsModule {}
