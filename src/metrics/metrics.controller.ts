import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { register } from 'prom-client';
import { Public } from '../auth/public.decorator.js';

/**
 * GET /metrics in Prometheus text: no token and no rate limit, so that a scraper needs no
 * account. Left out of the OpenAPI document, which describes the API, not its operation.
 */
@Public()
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  @Get()
  scrape(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    void reply.header('Content-Type', register.contentType);
    return register.metrics();
  }
}
