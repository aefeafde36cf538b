import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { createLogger } from './common/pino-logger.js';
import { loadSettings, SettingsError } from './config/settings.js';
import { AddressUnavailable, checkAddress } from './http/port.js';
import { SHUTDOWN_GRACE_MS, SHUTDOWN_LINGER_MS, shutDown } from './http/shutdown.js';

function cannotStart(message: string): never {
  console.error(`Assay cannot start: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let settings;
  try {
    settings = loadSettings(process.env);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    cannotStart(err.message);
  }
  // One line per step while it starts: the database set-up may take a while.
  const log = createLogger(settings);
  log.info(`Starting Assay on Node ${process.version}: settings checked.`);
  try {
    await checkAddress(settings.PORT, settings.HOST);
  } catch (err) {
    if (err instanceof AddressUnavailable) cannotStart(err.message);
    throw err;
  }
  log.info(`Port ${settings.PORT} on ${settings.HOST} is free.`);
  const app = await createApp(settings, undefined, log);
  const logger = new Logger('Shutdown');
  // Handled here rather than by Nest's shutdown hooks, which end the process by raising the
  // signal again: a clean stop exits 0, as process managers expect.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal}: answering the requests in flight, then exiting.`);
      setTimeout(() => {
        logger.error(`Requests still in flight after ${SHUTDOWN_GRACE_MS / 1000} s; exiting.`);
        process.exit(1);
      }, SHUTDOWN_GRACE_MS).unref();
      shutDown(app, SHUTDOWN_LINGER_MS).then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error(`Shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
          process.exit(1);
        },
      );
    });
  }
  await app.listen({ port: settings.PORT, host: settings.HOST });
  log.info(`Assay is ready at ${await app.getUrl()}; Swagger UI at /docs.`);
}

main().catch((err: unknown) => {
  console.error('Assay failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
