import { Module } from '@nestjs/common';
import { EvaluationsModule } from '../evaluations/evaluations.module.js';
import { ReviewQueuesController } from './review-queues.controller.js';
import { ReviewQueuesService } from './review-queues.service.js';

@Module({
  imports: [EvaluationsModule],
  controllers: [ReviewQueuesController],
  providers: [ReviewQueuesService],
  exports: [ReviewQueuesService],
})
export class ReviewQueuesModule {}
