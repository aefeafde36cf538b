import { Global, Module } from '@nestjs/common';
import { DbPoolMetrics } from './db-pool-metrics.js';
import { HttpMetrics } from './http-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';
import { OutboxMetrics } from './outbox-metrics.js';
import { collectProcessMetrics } from './registry.js';

/**
 * Prometheus metrics at GET /metrics, through prom-client: HTTP request durations, writes of
 * evaluations, the rate limit, the database pool, the outbox and the process. Global, so that any
 * service may count through MetricsService.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, HttpMetrics, DbPoolMetrics, OutboxMetrics],
  exports: [MetricsService],
})
export class MetricsModule {
  constructor() {
    collectProcessMetrics();
  }
}
