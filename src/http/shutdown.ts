import type { Server } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

const draining = new WeakSet<NestFastifyApplication>();

/** Makes every answer of a draining app close its connection, so no client reuses it. */
export function closeConnectionsWhenDraining(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', async (request, reply) => {
      if (draining.has(app) && request.raw.httpVersionMajor === 1) {
        reply.header('connection', 'close');
      }
    });
}

/**
 * Stops accepting connections but, unlike `server.close()`, leaves the idle keep-alive
 * ones open for now: one that looks idle may hold a request not yet read, and closing it
 * would reset that request. Resolves once every connection has ended.
 */
function stopAccepting(server: Server): Promise<void> {
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {};
  const ended = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections = closeIdle;
  return ended;
}

/**
 * Stops an app as SIGTERM should. From now on every answer carries `Connection: close`,
 * and no new connection is accepted. For `lingerMs` the open connections are still
 * served, so that every busy keep-alive connection gets one such answer and its client
 * hangs up; then the idle ones are closed, the requests in flight answered, and only then
 * is the database closed.
 */
export async function shutDown(app: NestFastifyApplication, lingerMs = 0): Promise<void> {
  draining.add(app);
  const server = app.getHttpServer();
  if (lingerMs > 0 && server.listening) {
    const ended = stopAccepting(server);
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, lingerMs))]);
    server.closeIdleConnections();
    await ended;
  }
  await app.close();
}
