import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator.js';
import { ApiAnyRoute, ApiErrors } from '../openapi/decorators.js';

const indicators = (description: string) => ({
  type: 'object',
  description,
  additionalProperties: { type: 'object', properties: { status: { type: 'string' } } },
});

@ApiTags('Health')
@Public()
@ApiAnyRoute()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
  ) {}

  @Get('live')
  @ApiResponse({
    status: 200,
    description: 'The process is up',
    schema: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['ok'] } },
    },
  })
  @ApiOperation({ summary: 'Liveness', description: 'The process is up. No auth.' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  // Terminus documents itself only where it can load @nestjs/swagger synchronously; the
  // answers are documented here instead, so the document is the same wherever it is built.
  @HealthCheck({ swaggerDocumentation: false })
  @ApiErrors(
    {
      status: 200,
      description: 'The database answers',
      schema: {
        type: 'object',
        required: ['status', 'info', 'error', 'details'],
        properties: {
          status: { type: 'string', enum: ['ok'] },
          info: indicators('The checks that passed: database'),
          error: indicators('The checks that failed: none'),
          details: indicators('Every check'),
        },
      },
    },
    503,
  )
  @ApiOperation({
    summary: 'Readiness',
    description: 'The database answers; 503 when it does not. No auth.',
  })
  ready() {
    return this.health.check([() => this.db.pingCheck('database', { timeout: 3000 })]);
  }
}
