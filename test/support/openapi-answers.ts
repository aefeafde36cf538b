import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// A CommonJS module: its plugin is the module itself, also reachable as its `default`.
const addFormats = formats.default;

/** An HTTP answer as it came: status, headers, and the body as text. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Keywords whose value is a map of schemas, and those whose value is data, not a schema. */
const SCHEMA_MAPS = new Set(['properties', '$defs']);
const DATA = new Set(['enum', 'default', 'example', 'const']);

/**
 * A schema as a JSON Schema reader sees it: `nullable` means only what OpenAPI 3.0.3 says,
 * null added to the `type` beside it, and nothing anywhere else (beside allOf, a $ref or
 * no type at all); OpenAPI's `example` is dropped.
 */
function asJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(asJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) {
    if (key === 'nullable' || key === 'example') continue;
    out[key] = SCHEMA_MAPS.has(key)
      ? Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, asJsonSchema(v)]))
      : DATA.has(key)
        ? value
        : asJsonSchema(value);
  }
  const { nullable, type } = schema as Json;
  if (nullable === true && typeof type === 'string') out.type = [type, 'null'];
  return out;
}

/** The document's component schemas moved to `$defs`, so that a response schema can hold them. */
const withDefs = (schema: Json, doc: Json): Json =>
  JSON.parse(
    JSON.stringify({ ...schema, $defs: doc.components.schemas }).replaceAll(
      '"#/components/schemas/',
      '"#/$defs/',
    ),
  ) as Json;

/**
 * Validates live answers against the document they came with, twice: as an OpenAPI 3.0
 * reader does (ajv, which knows `nullable`) and as a plain JSON Schema 2020-12 reader does.
 */
export class AnswerChecker {
  private readonly openapi = new Ajv({ allErrors: true, strict: true });
  private readonly jsonSchema = new Ajv2020({ allErrors: true, strict: true });
  private readonly compiled = new WeakMap<object, [ValidateFunction, ValidateFunction]>();

  constructor(private readonly doc: Json) {
    addFormats(this.openapi);
    addFormats(this.jsonSchema);
    this.openapi.addKeyword('example');
  }

  private validators(schema: Json): [ValidateFunction, ValidateFunction] {
    let pair = this.compiled.get(schema);
    if (!pair) {
      const full = withDefs(schema, this.doc);
      pair = [this.openapi.compile(full), this.jsonSchema.compile(asJsonSchema(full) as Json)];
      this.compiled.set(schema, pair);
    }
    return pair;
  }

  /** Where the answer differs from what the document says `method template` answers. */
  problems(method: string, template: string, answer: Answer): string[] {
    const at = `${method.toUpperCase()} ${template} ${answer.status}`;
    const op = (this.doc.paths as Json)[template]?.[method] as Json | undefined;
    if (!op) return [`${method.toUpperCase()} ${template}: not in the document`];
    const documented = (op.responses as Json)[String(answer.status)] as Json | undefined;
    if (!documented) return [`${at}: status not documented`];
    const type = String(answer.headers['content-type'] ?? '')
      .split(';')[0]
      .trim();
    if (!type && !answer.text) {
      return documented.content ? [`${at}: no body, where the document describes one`] : [];
    }
    const schema = documented.content?.[type]?.schema as Json | undefined;
    if (!schema) return [`${at}: a ${type || 'body without a type'}, which it does not document`];
    let body: unknown = answer.text;
    if (type === 'application/json') {
      try {
        body = JSON.parse(answer.text);
      } catch {
        return [`${at}: not JSON: ${answer.text.slice(0, 100)}`];
      }
    }
    return this.validators(schema).flatMap((validate, i) =>
      validate(body)
        ? []
        : (validate.errors ?? []).map(
            (e) =>
              `${at} (${i === 0 ? 'OpenAPI 3.0' : 'JSON Schema'}): ${e.instancePath || '/'} ` +
              `${e.message} ${JSON.stringify(e.params)}`,
          ),
    );
  }
}
