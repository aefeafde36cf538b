import { Module } from '@nestjs/common';
import { EvaluationLabelsModule } from '../evaluation-labels/evaluation-labels.module.js';
import { EvaluationListController } from './evaluation-list.controller.js';
import { EvaluationListService } from './evaluation-list.service.js';
import { StatsController } from './stats.controller.js';
import { StatsService } from './stats.service.js';

/** Statistics, comparisons, and evaluations listed and exported across runs. */
@Module({
  imports: [EvaluationLabelsModule],
  controllers: [StatsController, EvaluationListController],
  providers: [StatsService, EvaluationListService],
  exports: [StatsService, EvaluationListService],
})
export class StatsModule {}
