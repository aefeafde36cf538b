// `npm run openapi`: writes the OpenAPI document the code generates to OPENAPI_FILE.
// The document depends on the code only, never on settings; a spec fails when it is stale.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { createApp } from '../app.factory.js';
import { loadSettings } from '../config/settings.js';
import { IN_MEMORY } from '../database/data-source-options.js';
import { buildOpenApiDocument, OPENAPI_FILE, serialiseOpenApi } from './openapi.js';

const app = await createApp(
  loadSettings({
    DATA_DIR: IN_MEMORY,
    JWT_SECRET: 'openapi-generation-needs-no-real-secret',
    LOG_LEVEL: 'silent',
  }),
);
writeFileSync(OPENAPI_FILE, serialiseOpenApi(buildOpenApiDocument(app)));
await app.close();
console.log(`wrote ${OPENAPI_FILE}`);
