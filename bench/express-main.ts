// Assay on Nest's Express adapter, for `npm run bench -- --express`: the same root module,
// guards, pipes and services as src/main.ts, so only the HTTP layer differs. It serves the
// benchmark's workloads, not the whole product (errors and /docs are Fastify-only).
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { AppModule } from '../src/app.module.js';
import { loadSettings } from '../src/config/settings.js';

const settings = loadSettings(process.env);
const app = await NestFactory.create(AppModule.forRoot(settings), new ExpressAdapter(), {
  logger: ['error', 'warn'],
});
app.enableShutdownHooks();
await app.listen(settings.PORT, settings.HOST);
