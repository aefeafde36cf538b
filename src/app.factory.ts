import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyBaseLogger } from 'fastify';
import { AppModule } from './app.module.js';
import { clientErrorHandler, frameworkErrors } from './common/framework-errors.js';
import { installJsonBodyParser } from './common/json-body.js';
import { createLogger, PinoLogger } from './common/pino-logger.js';
import type { Settings } from './config/settings.js';
import { setupDashboard } from './dashboard/dashboard.js';
import { configureAssayHttp, requestId } from './http/configure-http.js';
import { closeConnectionsWhenDraining } from './http/shutdown.js';
import { setupOpenApi } from './openapi/openapi.js';

/**
 * Builds the Assay HTTP app exactly as it runs in production; main, the OpenAPI script and
 * the tests all start here. `module` lets a test or host pass another root module.
 */
export async function createApp(
  settings: Settings,
  module: DynamicModule = AppModule.forRoot(settings),
  logger: FastifyBaseLogger = createLogger(settings),
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: settings.BODY_LIMIT,
    // On SIGTERM, requests already on open connections are still served (in our error
    // shape if they fail) rather than refused with Fastify's own 503 body.
    return503OnClosing: false,
    genReqId: requestId,
    // Errors raised below the application answer in the same body as the rest.
    frameworkErrors,
    clientErrorHandler,
    loggerInstance: logger,
  });
  // Nest's body parsers are off: Fastify's own JSON parser (with bodyLimit) is the only one,
  // so any other content type is a 415 rather than a form or a string to trip over. Nest logs
  // through Fastify's logger from the first line, so that the set-up (the database, its
  // migrations) is reported as it happens rather than all at once when it is done.
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: new PinoLogger(adapter.getInstance().log),
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();

  configureAssayHttp(app, { prefix: '/' });
  closeConnectionsWhenDraining(app);
  fastify.removeContentTypeParser(['text/plain']);
  installJsonBodyParser(fastify);

  setupOpenApi(app);
  if (settings.DASHBOARD) setupDashboard(app);
  await app.init();
  // Fastify finalises its routes on ready(); a server handed to supertest is never listen()ed.
  await fastify.ready();
  return app;
}
