import 'reflect-metadata';
import { createApp } from './app.factory.js';
import { loadSettings, SettingsError } from './config/settings.js';

async function main(): Promise<void> {
  let settings;
  try {
    settings = loadSettings(process.env);
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    console.error(`Assay cannot start. ${err.message}`);
    process.exit(1);
  }
  const app = await createApp(settings);
  await app.listen({ port: settings.PORT, host: settings.HOST });
}

main().catch((err: unknown) => {
  console.error('Assay failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
