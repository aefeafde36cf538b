import { Module } from '@nestjs/common';
import { EvaluationLabelsController } from './evaluation-labels.controller.js';
import { EvaluationLabelsService } from './evaluation-labels.service.js';

@Module({
  controllers: [EvaluationLabelsController],
  providers: [EvaluationLabelsService],
  exports: [EvaluationLabelsService],
})
export class EvaluationLabelsModule {}
