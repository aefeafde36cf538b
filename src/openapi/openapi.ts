import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { BEARER } from './decorators.js';

/** The committed document, relative to the project root (npm scripts run there). */
export const OPENAPI_FILE = 'src/openapi/openapi.json';

export const serialiseOpenApi = (doc: object): string => `${JSON.stringify(doc, null, 2)}\n`;

/** Keys sorted at every level, so that the same code always writes the same document. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

const TOKEN_HOWTO =
  '**Getting a token.** In production, from your identity provider: a JWT with `sub` (you), ' +
  '`account_id` (your account) and `exp`, signed with the key Assay trusts. On a development ' +
  'server: `npm run token -- --account A --sub U` prints one (add `--evaluator ID` for an ' +
  'evaluator, `--ttl 1h` for its lifetime). Press **Authorize** and paste the token, without ' +
  '"Bearer".';

/** The OpenAPI document of the app, generated from its decorators. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Assay')
    .setDescription(
      'Records and validates evaluations of AI workflow runs. Wire-compatible with the ' +
        're-factor Run Evaluations API. Every /v1 route needs `Authorization: Bearer <JWT>`.\n\n' +
        TOKEN_HOWTO,
    )
    .setVersion('1.0.0')
    // The scheme stays exactly the reference's; the description above says where tokens come from.
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER)
    // Every operation needs the token unless it says otherwise (the health probes: none).
    .addSecurityRequirements(BEARER)
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controller, method) =>
      `${controller.replace(/Controller$/, '')}_${method}`,
  });
  return sortKeys(document) as OpenAPIObject;
}

/** Serves Swagger UI at /docs and the document at /docs-json and /docs-yaml. */
export function setupOpenApi(app: INestApplication): OpenAPIObject {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    customSiteTitle: 'Assay API',
    swaggerOptions: { persistAuthorization: true },
  });
  return document;
}
