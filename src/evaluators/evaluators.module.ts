import { Module } from '@nestjs/common';
import { EvaluatorsController } from './evaluators.controller.js';
import { EvaluatorsService } from './evaluators.service.js';

@Module({
  controllers: [EvaluatorsController],
  providers: [EvaluatorsService],
  exports: [EvaluatorsService],
})
export class EvaluatorsModule {}
