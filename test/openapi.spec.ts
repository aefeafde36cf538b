import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { validate } from '@readme/openapi-parser';
import * as yaml from 'js-yaml';
import { buildOpenApiDocument, OPENAPI_FILE, serialiseOpenApi } from '../src/openapi/openapi.js';
import { DATABASES, startApp, type TestApp } from './support/app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const reference = yaml.load(
  readFileSync('test/reference/run-evaluations.reference.yaml', 'utf8'),
) as Json;

const REFERENCE_OPERATIONS = Object.entries(reference.paths as Json).flatMap(([path, item]) =>
  ['get', 'put', 'post', 'delete', 'patch']
    .filter((m) => item[m])
    .map((method) => ({
      path,
      method,
      op: item[method] as Json,
      pathParams: (item.parameters ?? []) as Json[],
    })),
);

/** Follows a local $ref. */
function deref(doc: Json, schema: Json | undefined): Json | undefined {
  if (!schema?.$ref) return schema;
  const name = (schema.$ref as string).replace('#/components/schemas/', '');
  return deref(doc, doc.components.schemas[name]);
}

/**
 * Where the generated schema differs from the reference's: type, format, nullability, the
 * required list, every property (recursively) and array items. `extraAllowed` lets
 * Assay add properties (the error body's code and request_id).
 */
function schemaProblems(
  doc: Json,
  refSchema: Json,
  gen: Json | undefined,
  at: string,
  extraAllowed = false,
): string[] {
  const ref = deref(reference, refSchema)!;
  const g = deref(doc, gen);
  if (!g) return [`${at}: missing`];
  const problems: string[] = [];
  for (const key of ['type', 'format'] as const) {
    if (ref[key] !== g[key]) problems.push(`${at}.${key}: expected ${ref[key]}, got ${g[key]}`);
  }
  if ((ref.nullable ?? false) !== (g.nullable ?? false)) {
    problems.push(`${at}.nullable: expected ${ref.nullable ?? false}, got ${g.nullable ?? false}`);
  }
  const refRequired = [...((ref.required as string[]) ?? [])].sort();
  const genRequired = [...((g.required as string[]) ?? [])].sort();
  const requiredDiffers = extraAllowed
    ? refRequired.some((r) => !genRequired.includes(r))
    : JSON.stringify(refRequired) !== JSON.stringify(genRequired);
  if (requiredDiffers) {
    problems.push(
      `${at}.required: expected [${refRequired.join(', ')}], got [${genRequired.join(', ')}]`,
    );
  }
  const refProps = (ref.properties ?? {}) as Json;
  const genProps = (g.properties ?? {}) as Json;
  for (const [name, prop] of Object.entries(refProps)) {
    problems.push(...schemaProblems(doc, prop, genProps[name], `${at}.properties.${name}`));
  }
  if (!extraAllowed) {
    for (const name of Object.keys(genProps).filter((n) => !(n in refProps))) {
      problems.push(`${at}.properties.${name}: not in the reference`);
    }
  }
  if (ref.items) problems.push(...schemaProblems(doc, ref.items, g.items, `${at}.items`));
  return problems;
}

function responseSchema(doc: Json, response: Json | undefined): Json | undefined {
  const r = response?.$ref
    ? doc.components.responses[(response.$ref as string).replace('#/components/responses/', '')]
    : response;
  return r?.content?.['application/json']?.schema;
}

/** Every difference between one reference operation and the generated one. */
function operationProblems(
  doc: Json,
  { path, method, op, pathParams }: (typeof REFERENCE_OPERATIONS)[number],
): string[] {
  const at = `${method.toUpperCase()} ${path}`;
  const gen = doc.paths?.[path]?.[method] as Json | undefined;
  if (!gen) return [`${at}: missing`];
  const problems: string[] = [];

  const genParams = [
    ...((doc.paths[path].parameters ?? []) as Json[]),
    ...((gen.parameters ?? []) as Json[]),
  ];
  for (const p of [...pathParams, ...((op.parameters ?? []) as Json[])]) {
    const g = genParams.find((x) => x.name === p.name && x.in === p.in);
    if (!g) {
      problems.push(`${at} parameter ${p.name}: missing`);
      continue;
    }
    if (g.required !== p.required)
      problems.push(`${at} parameter ${p.name}.required: expected ${p.required}`);
    problems.push(...schemaProblems(doc, p.schema, g.schema, `${at} parameter ${p.name}`));
  }

  if (op.requestBody) {
    const ref = op.requestBody.content['application/json'].schema as Json;
    const g = gen.requestBody?.content?.['application/json']?.schema as Json | undefined;
    if (op.requestBody.required && !gen.requestBody?.required)
      problems.push(`${at} requestBody.required: expected true`);
    problems.push(...schemaProblems(doc, ref, g, `${at} requestBody`));
  }

  for (const [code, response] of Object.entries(op.responses as Json)) {
    const g = gen.responses?.[code];
    if (!g) {
      problems.push(`${at} response ${code}: missing`);
      continue;
    }
    const refSchema = responseSchema(reference, response);
    if (refSchema) {
      const isError = Number(code) >= 400;
      problems.push(
        ...schemaProblems(
          doc,
          refSchema,
          responseSchema(doc, g),
          `${at} response ${code}`,
          isError,
        ),
      );
      const refName = refSchema.$ref ?? refSchema.items?.$ref;
      const genSchema = responseSchema(doc, g);
      const genName = genSchema?.$ref ?? genSchema?.items?.$ref;
      if (refName && refName !== genName)
        problems.push(`${at} response ${code}: expected schema ${refName}, got ${genName}`);
    }
  }

  const security = (gen.security ?? doc.security ?? []) as Json[];
  if (!security.some((s) => 'BearerAuth' in s)) problems.push(`${at}: no BearerAuth security`);
  return problems;
}

/** The deliberate differences of PRODUCT.md §7, each asserted on its own below. */
const DELIBERATE = [
  'PUT /v1/run/{run_id}/evaluation/{evaluation_id} requestBody.required: expected [], got [value]',
];

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: Json;
  beforeAll(async () => {
    t = await startApp(DATABASES[0]);
    doc = buildOpenApiDocument(t.app);
  });
  afterAll(() => t.close());

  it('is committed as generated (run `npm run openapi` after changing the API)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(serialiseOpenApi(doc));
  });

  it('is written deterministically, keys sorted', () => {
    expect(serialiseOpenApi(buildOpenApiDocument(t.app))).toBe(serialiseOpenApi(doc));
    expect(Object.keys(doc.paths as Json)).toEqual(Object.keys(doc.paths as Json).sort());
  });

  it('validates as OpenAPI 3.x', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
  });

  it('is served at /docs-json and /docs-yaml, and Swagger UI at /docs', async () => {
    expect((await t.http.get('/docs-json')).body).toEqual(JSON.parse(JSON.stringify(doc)));
    const yamlDoc = await t.http.get('/docs-yaml');
    expect(yaml.load(yamlDoc.text)).toEqual(JSON.parse(JSON.stringify(doc)));
    const ui = await t.http.get('/docs');
    expect([ui.status, ui.text]).toEqual([200, expect.stringContaining('swagger-ui')]);
  });

  it.each(
    REFERENCE_OPERATIONS.map((operation) => ({
      name: `${operation.method.toUpperCase()} ${operation.path}`,
      operation,
    })),
  )('matches the given spec for $name', ({ operation }) => {
    const problems = operationProblems(doc, operation).filter((p) => !DELIBERATE.includes(p));
    expect(problems).toEqual([]);
  });

  it('declares bearer JWT exactly as the given spec', () => {
    expect(doc.components.securitySchemes.BearerAuth).toEqual(
      reference.components.securitySchemes.BearerAuth,
    );
    expect(doc.components.schemas.RunEvaluation).toBeDefined();
  });

  it('deliberate difference: PUT requires value, and says so', () => {
    const put = REFERENCE_OPERATIONS.find((o) => o.method === 'put')!;
    expect(operationProblems(doc, put)).toContain(DELIBERATE[0]);
    const body = deref(
      doc,
      doc.paths[put.path].put.requestBody.content['application/json'].schema,
    )!;
    expect(body.required).toEqual(['value']);
    expect(doc.paths[put.path].put.description).toMatch(/value.*required/i);
  });

  it('documents every operation: summary, description, errors with the error schema, bearer auth and 429 off the health probes', () => {
    const problems: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        const at = `${method.toUpperCase()} ${path}`;
        if (!op.summary) problems.push(`${at}: no summary`);
        if (!op.description) problems.push(`${at}: no description`);
        const isPublic = path.startsWith('/health');
        if (!isPublic && !(op.security as Json[] | undefined)?.some((s) => 'BearerAuth' in s))
          problems.push(`${at}: no security`);
        for (const [code, response] of Object.entries(op.responses as Json)) {
          if (
            Number(code) >= 400 &&
            !isPublic &&
            response.content?.['application/json']?.schema?.$ref !== '#/components/schemas/Error'
          ) {
            problems.push(`${at} ${code}: not the Error schema`);
          }
        }
        if (!isPublic && !op.responses['401']) problems.push(`${at}: no 401`);
        if (!isPublic && !op.responses['429']?.headers?.['Retry-After'])
          problems.push(`${at}: no 429 with Retry-After`);
        if (op.requestBody) {
          const schema = deref(doc, op.requestBody.content['application/json'].schema)!;
          for (const [name, prop] of Object.entries((schema.properties ?? {}) as Json)) {
            if (prop.example === undefined && !prop.$ref)
              problems.push(`${at} body.${name}: no example`);
          }
        }
        if (
          method === 'get' &&
          op.responses['200']?.content?.['application/json']?.schema?.type === 'array' &&
          // A resource's own record (its changes, its versions) is answered whole.
          !path.endsWith('/history') &&
          !path.endsWith('/versions')
        ) {
          if (!op.responses['200'].headers?.Link)
            problems.push(`${at}: paging Link header undocumented`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
