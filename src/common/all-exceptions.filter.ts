import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { databaseStateLog } from '../database/database-state-log.js';
import { toErrorResponse } from './error-response.js';
import { sendError } from './framework-errors.js';

/** The one place where an error becomes a response. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const answer = toErrorResponse(exception, String(request.id));
    const { internal, database } = answer;
    if (database) databaseStateLog.refused(database, exception);
    if (internal) {
      const { message } = internal as { message?: unknown };
      this.logger.error(
        { request_id: request.id, err: internal },
        `${request.method} ${request.url} failed: ${typeof message === 'string' ? message : 'unknown error'}`,
      );
    }
    sendError(reply, answer);
  }
}
