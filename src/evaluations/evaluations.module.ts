import { Module } from '@nestjs/common';
import { EvaluationLabelsModule } from '../evaluation-labels/evaluation-labels.module.js';
import { EvaluationBatchController } from './evaluation-batch.controller.js';
import { EvaluationsController } from './evaluations.controller.js';
import { EvaluationsService } from './evaluations.service.js';

@Module({
  imports: [EvaluationLabelsModule],
  controllers: [EvaluationsController, EvaluationBatchController],
  providers: [EvaluationsService],
  exports: [EvaluationsService],
})
export class EvaluationsModule {}
