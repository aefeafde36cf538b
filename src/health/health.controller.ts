import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator.js';

@ApiTags('Health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
  ) {}

  @Get('live')
  @ApiResponse({ status: 200, description: 'The process is up' })
  @ApiOperation({ summary: 'Liveness', description: 'The process is up. No auth.' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  // Terminus documents itself only where it can load @nestjs/swagger synchronously; the
  // answers are documented here instead, so the document is the same wherever it is built.
  @HealthCheck({ swaggerDocumentation: false })
  @ApiResponse({ status: 200, description: 'The database answers' })
  @ApiResponse({ status: 503, description: 'The database does not answer' })
  @ApiOperation({
    summary: 'Readiness',
    description: 'The database answers; 503 when it does not. No auth.',
  })
  ready() {
    return this.health.check([() => this.db.pingCheck('database', { timeout: 3000 })]);
  }
}
