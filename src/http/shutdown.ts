import type { Server } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** How long SIGTERM keeps serving, each answer closing its connection, before it closes. */
export const SHUTDOWN_LINGER_MS = 500;
/** The longest SIGTERM waits for requests in flight before the process exits anyway. */
export const SHUTDOWN_GRACE_MS = 30_000;

const draining = new WeakSet<NestFastifyApplication>();
/** Per server: how many requests it has taken in and not yet answered, and who waits for none. */
const inFlight = new WeakMap<Server, { count: number; whenNone: (() => void)[] }>();

/**
 * Makes every answer of a draining app close its connection, so no client reuses it, and
 * counts the requests in flight, so that shutting down knows when all are answered.
 */
export function closeConnectionsWhenDraining(app: NestFastifyApplication): void {
  const server: Server = app.getHttpServer();
  const requests = { count: 0, whenNone: [] as (() => void)[] };
  inFlight.set(server, requests);
  server.on('request', (_req, res) => {
    requests.count++;
    res.once('close', () => {
      if (--requests.count === 0) for (const resolve of requests.whenNone.splice(0)) resolve();
    });
  });
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', (request, reply, payload, done) => {
      if (draining.has(app) && request.raw.httpVersionMajor === 1) {
        void reply.header('connection', 'close');
      }
      done(null, payload);
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

/** Resolves once the server has answered every request it took in. */
function requestsAnswered(server: Server): Promise<void> {
  const requests = inFlight.get(server);
  if (!requests || requests.count === 0) return Promise.resolve();
  return new Promise((resolve) => requests.whenNone.push(resolve));
}

/**
 * Stops an app as SIGTERM should. From now on every answer carries `Connection: close`,
 * and no new connection is accepted. For `lingerMs` the open connections are still
 * served, so that every busy keep-alive connection gets one such answer and its client
 * hangs up; then the idle ones are closed, the requests in flight answered, and only then
 * is the database closed. A connection still open then never sent a whole request (a
 * client that connected and said nothing, or stopped halfway through the headers):
 * nothing of it was taken in, so it is closed rather than waited for.
 */
export async function shutDown(app: NestFastifyApplication, lingerMs = 0): Promise<void> {
  draining.add(app);
  const server = app.getHttpServer();
  if (lingerMs > 0 && server.listening) {
    const ended = stopAccepting(server);
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, lingerMs))]);
    server.closeIdleConnections();
    await Promise.race([ended, requestsAnswered(server)]);
    server.closeAllConnections();
    await ended;
  }
  await app.close();
}
