import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { negotiate } from '../../src/common/accept.js';
import { TEST_SECRET } from '../support/app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One request as the fuzzer sends it. */
export interface FuzzRequest {
  method: string;
  /** The path with its query string, already encoded (or deliberately not). */
  url: string;
  headers: Record<string, string | string[]>;
  body?: string | Buffer;
  /** What was generated, for the report of a failure. */
  label: string;
}

/** The ids the fuzzer knows to exist, by the path segment before a parameter. */
export class IdPool {
  readonly byKind = new Map<string, string[]>();

  add(kind: string, id: unknown): void {
    if (typeof id !== 'string') return;
    const ids = this.byKind.get(kind) ?? [];
    if (!ids.includes(id)) ids.push(id);
    if (ids.length > 40) ids.shift();
    this.byKind.set(kind, ids);
  }

  /** A known id of this kind (any kind when none), picked by an index the fuzzer drew. */
  pick(kind: string, index: number): string {
    const ids = this.byKind.get(kind)?.length
      ? this.byKind.get(kind)!
      : [...this.byKind.values()].flat();
    return ids.length ? ids[index % ids.length] : randomUUID();
  }
}

// --- hostile scalars -------------------------------------------------------------------------

const INJECTIONS = [
  "' OR 1=1 --",
  "'; DROP TABLE runs; --",
  '") OR ("1"="1',
  '$..*..*..*..*..*',
  "$[?search(@, '(a+)+$')]",
  "$[?match(@, '(a|a)*b')]",
  '$[?@.a==@.a][?@.a==@.a]',
  '\r\nSet-Cookie: x=1',
  '\r\n\r\nHTTP/1.1 200 OK',
  '../../etc/passwd',
  '%00',
  '%zz',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'prototype',
  '\u0000',
  '\ud800',
  '\udfff\ud800',
  '\ufeffbom',
  '\u202egnp.exe',
  '☺️'.repeat(150),
  '😀'.repeat(120),
  'e\u0301'.repeat(110),
  'a'.repeat(201),
  'a'.repeat(5000),
  '',
  ' ',
  'null',
  'true',
  '1e400',
  '-0',
  'NaN',
  'Infinity',
];

/** Text of every kind: ASCII, control characters, lone surrogates, astral characters. */
const anyText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    maxLength: 20,
  }),
  fc.constantFrom(...INJECTIONS),
);

/** A JSON literal written raw into a body: numbers JSON.stringify would never write. */
class Raw {
  constructor(readonly text: string) {}
}

const hostileNumber = fc.oneof(
  fc.constantFrom(
    new Raw('1e400'),
    new Raw('-1e400'),
    new Raw('-0'),
    new Raw('1E+2'),
    new Raw('0.0000000000000000000000001'),
    new Raw('123456789012345678901234567890'),
    'NaN',
    'Infinity',
    '-Infinity',
    '1e400',
  ),
  fc.double(),
  fc.integer(),
);

const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

/** Any JSON value, hostile ones included, nested a little. */
const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyText,
    hostileNumber,
    wrongType,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(anyText, tie('value'), { maxKeys: 4 }),
  ),
})).value;

// --- values from the document's schemas ------------------------------------------------------

function deref(doc: Json, schema: Json): Json {
  if (!schema?.$ref) return schema ?? {};
  return deref(doc, doc.components.schemas[(schema.$ref as string).split('/').pop()!] as Json);
}

/** A value the schema allows, roughly: the fuzzer's "valid-ish" half. */
function validFor(doc: Json, schema: Json, pool: IdPool, name: string): fc.Arbitrary<unknown> {
  const s = deref(doc, schema);
  if (s.enum) return fc.constantFrom(...(s.enum as unknown[]));
  if (s.format === 'uuid') {
    const kind = name.replace(/_id$/, '').replace(/_/g, '-');
    return fc.oneof(
      fc.nat().map((i) => pool.pick(kind, i)),
      fc.uuid(),
    );
  }
  if (s.format === 'date-time') {
    return fc
      .date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  switch (s.type) {
    case 'string':
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) });
    case 'integer':
      return fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 1000 });
    case 'number':
      return fc.oneof(
        fc.constantFrom(0, 1, 0.5, 4.5),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
      );
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(validFor(doc, s.items as Json, pool, name), { maxLength: 5 });
    case 'object':
      if (s.properties) return objectFor(doc, s, pool);
      return fc.dictionary(fc.string({ maxLength: 10 }), anyJson, { maxKeys: 5 });
    default:
      return anyJson;
  }
}

/** A value for a schema: valid-ish most of the time, hostile otherwise. */
function valueFor(doc: Json, schema: Json, pool: IdPool, name: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: validFor(doc, schema, pool, name) },
    { weight: 2, arbitrary: anyJson },
  );
}

/** An object for an object schema: valid, with hostile values, unknown keys or keys left out. */
function objectFor(doc: Json, schema: Json, pool: IdPool): fc.Arbitrary<Json> {
  const props = Object.entries((schema.properties ?? {}) as Json);
  const requiredKeys = props.map(([n]) => n).filter((n) => (schema.required ?? []).includes(n));
  const record = (value: typeof valueFor) =>
    Object.fromEntries(props.map(([name, s]) => [name, value(doc, s as Json, pool, name)]));
  const valid = fc.record(record(validFor), { requiredKeys });
  const hostile = fc.record(record(valueFor), { requiredKeys });
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 3, arbitrary: hostile },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.dictionary(anyText, anyJson, { minKeys: 1, maxKeys: 3 }))
        .map(([a, b]) => ({ ...b, ...a })),
    },
    { weight: 1, arbitrary: fc.record(record(valueFor), { requiredKeys: [] }) },
  );
}

/** JSON text for a value, with Raw literals written as they are. */
function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const nest = (depth: number, open: string, close: string, core = '1') =>
  open.repeat(depth) + core + close.repeat(depth);

/** Bodies no schema describes: broken, deep, or not UTF-8. */
const brokenBody = fc.oneof(
  fc.constantFrom<string | Buffer>(
    '',
    '{',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    '{"a":1}{"b":2}',
    '{"a":1,"a":2}',
    '{"__proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '\ufeff{}',
    '[]',
    'null',
    '"text"',
    '1e400',
    'NaN',
    '{"name":"\\u0000"}',
    '{"name":"\\ud800"}',
    '{"\\udc00":1}',
    '{"outputs":{"\\u0000":1}}',
    Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
    nest(63, '{"a":', '}'),
    nest(64, '{"a":', '}'),
    nest(65, '[', ']'),
    nest(1000, '[', ']', ''),
    `{"outputs":${nest(50_000, '{"a":', '}')}}`,
    nest(100_000, '[', ']', ''),
  ),
  fc.string({ maxLength: 50 }),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }).map((b) => Buffer.from(b)),
);

// --- query strings and path parameters -------------------------------------------------------

const forgedCursor = fc
  .tuple(
    fc.oneof(
      fc.constantFrom('+275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', 'NaN', ''),
      fc
        .date({ noInvalidDate: false })
        .map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
      anyText,
    ),
    fc.oneof(fc.uuid(), anyText),
  )
  .map((pair) => Buffer.from(JSON.stringify(pair)).toString('base64url'));

/** Instants at and past the ends of what PostgreSQL holds, once in UTC. */
const EDGE_INSTANTS = [
  '0001-01-01T00:00:00+14:00',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59-23:59',
  '-9999-01-01T00:00:00Z',
  '-271821-04-20T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '+294277-01-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-01-01T24:00:00Z',
  '2026-01-01T00:00:00+24:00',
];

/** Query text sent as it is: escapes of no character, NUL, and ones that are no escape. */
const RAW_ESCAPES = [
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%ED%BF%BF',
  '%F4%90%80%80',
  '%FF',
  '%C0%AF',
  '%E2%82',
  '%zz',
  '%',
  '%%',
  '%2',
  'a+b',
  '%EF%BB%BFa',
  '%0D%0ASet-Cookie:%20x=1',
];

/** Values no schema allows, for any parameter: numbers, ids and instants gone wrong. */
const hostileScalar = fc.constantFrom(
  'abc',
  '0',
  '-1',
  '1001',
  '1.5',
  '1e3',
  '1e400',
  '-1e400',
  '9'.repeat(400),
  '-0',
  'NaN',
  'Infinity',
  '',
  ' 5',
  '0x10',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '5f0c1a52-8a43-4a53-9d61-6f0f1b7f6b1',
  '5f0c1a52-8a43-4a53-9d61-6f0f1b7f6b11-',
  '{5f0c1a52-8a43-4a53-9d61-6f0f1b7f6b11}',
  'workflow,workflow,source,nothing',
  ...EDGE_INSTANTS,
);

/** A query parameter's value the schema allows, percent-encoded. */
function validQueryValue(
  doc: Json,
  schema: Json,
  pool: IdPool,
  name: string,
): fc.Arbitrary<string> {
  return validFor(doc, schema, pool, name).map((v) =>
    encode(typeof v === 'string' ? v : JSON.stringify(v)),
  );
}

/** A query parameter's value no schema allows, percent-encoded or deliberately not. */
function hostileQueryValue(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: anyText.map(encode) },
    { weight: 2, arbitrary: hostileScalar.map(encode) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_ESCAPES) },
    { weight: 1, arbitrary: (name === 'cursor' ? forgedCursor : anyText).map(encode) },
    // The parameter twice: an array where one value is expected.
    { weight: 1, arbitrary: fc.constant(`${encode('a')}&${encode(name)}=${encode('b')}`) },
  );
}

const encode = (text: string): string => {
  try {
    return encodeURIComponent(text);
  } catch {
    // A lone surrogate cannot be percent-encoded as UTF-8: send its bytes' escape by hand.
    return [...text].map((c) => `%${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  }
};

function pathValue(kind: string, pool: IdPool): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.nat().map((i) => encode(pool.pick(kind, i))) },
    { weight: 1, arbitrary: fc.nat().map((i) => encode(pool.pick(kind, i).toUpperCase())) },
    { weight: 1, arbitrary: fc.uuid().map(encode) },
    { weight: 2, arbitrary: anyText.map(encode) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('%zz', '%', '%00', '..', '%2e%2e', 'a'.repeat(150), '%ff%fe'),
    },
  );
}

// --- headers and tokens ----------------------------------------------------------------------

const sign = (payload: object, options: jwt.SignOptions = {}, secret = TEST_SECRET) =>
  jwt.sign(payload, secret, { algorithm: 'HS256', ...options });

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Good tokens for two accounts, and every kind of bad one. */
const authorization = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constant(
      `Bearer ${sign({ sub: 'alice', account_id: 'acme' }, { expiresIn: '1h' })}`,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constant(
      `Bearer ${sign({ sub: 'bob', account_id: 'other' }, { expiresIn: '1h' })}`,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'a', account_id: 'acme', exp: 4e9 })}.`,
      `Bearer ${sign({ sub: 'a', account_id: 'acme' }, { expiresIn: '1h' }, 'a-different-secret-that-is-long-enough!')}`,
      `Bearer ${sign({ sub: 'a', account_id: 'acme', exp: 1000 })}`,
      `Bearer ${sign({ account_id: 'acme' }, { expiresIn: '1h' })}`,
      `Bearer ${sign({ sub: 'a' }, { expiresIn: '1h' })}`,
      `Bearer ${sign({ sub: 'a', account_id: 'acme' })}`,
      `Bearer ${sign({ sub: 'a', account_id: 'acme', evaluator_id: 'not-a-uuid' }, { expiresIn: '1h' })}`,
      `Bearer ${sign({ sub: 'a', account_id: 'acme', evaluator_id: randomUUID().toUpperCase() }, { expiresIn: '1h' })}`,
      `Bearer ${sign({ sub: 'a\u0000', account_id: 'acme' }, { expiresIn: '1h' })}`,
      `Bearer ${sign({ sub: 'a', account_id: '😀'.repeat(201) }, { expiresIn: '1h' })}`,
      `Bearer ${sign({ sub: 'a', account_id: 'acme', pad: 'x'.repeat(8000) }, { expiresIn: '1h' })}`,
      `Bearer ${sign({ sub: 'a', account_id: 'acme' }, { expiresIn: '1h', algorithm: 'HS512' })}`,
      'Bearer ',
      'Bearer',
      'Bearer a.b.c',
      'Bearer ....',
      'Basic YWxpY2U6c2VjcmV0',
      `Bearer ${'A'.repeat(12_000)}`,
      '',
    ),
  },
);

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'Application/JSON',
      'application/json, text/plain',
      'application/problem+json',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '',
      '*/*',
      ';;;',
    ),
  },
);

const extraHeaders = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Record<string, string | string[]>>(
      { 'x-request-id': 'a b c' },
      { 'x-request-id': 'x'.repeat(500) },
      { 'x-request-id': ['one', 'two'] },
      { 'content-length': '0' },
      { 'x-forwarded-for': '1.2.3.4, ::1' },
      { 'x-padding': 'p'.repeat(12_000) },
      { 'transfer-encoding': 'gzip' },
      { 'x-http-method-override': 'DELETE' },
      { 'content-encoding': 'gzip' },
    ),
  },
);

/** Header text Node's client will send: latin1 without controls (it refuses the others). */
const headerText = anyText.map((t) => t.replace(/[^\t\x20-\x7e\x80-\xff]/g, '').trim());

/** Values for the headers routes read: keys, entity-tags, event ids, all kinds of wrong. */
const hostileHeader = fc.oneof(
  headerText,
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid().map((u) => `"${u}"`),
  fc.uuid().map((u) => `W/"${u}", "${u}"`),
  fc.constantFrom(
    '*',
    '"*"',
    'W/',
    'W/"',
    '""',
    ',,,',
    '"a", *',
    'x'.repeat(256),
    'x'.repeat(5000),
    "' OR 1=1 --",
    '\xed\xa0\x80',
    '\xff\xfe',
    'caf\xc3\xa9',
    '1e400',
    '9'.repeat(400),
    '-1',
    '0001-01-01T00:00:00+14:00',
  ),
);

/** A value for a header the document names (Idempotency-Key, If-Match, Last-Event-ID). */
function headerValue(pool: IdPool, name: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.nat().map((i) => pool.pick(name, i)) },
    { weight: 3, arbitrary: hostileHeader },
  );
}

/** What the list and events negotiate over: most often JSON, else every kind of Accept. */
const accept = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.oneof(
      fc.constantFrom(
        '*/*',
        'application/*',
        'text/csv',
        'application/x-ndjson',
        'text/csv;q=0.5, application/json',
        'application/json;q=0, */*;q=0.1',
        'application/json;q=0',
        '*/*;q=0',
        'text/html',
        'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
        'application/json;q=2',
        'application/json;q=abc',
        '*/csv',
        ';;;',
        '',
      ),
      headerText,
    ),
  },
);

/** Whether an Accept would open GET /v1/events' stream, which never ends: not sent. */
const opensStream = (value: string): boolean => {
  try {
    return negotiate(value, ['application/json', 'text/event-stream']) === 'text/event-stream';
  } catch {
    return false;
  }
};

// --- requests --------------------------------------------------------------------------------

interface Operation {
  method: string;
  path: string;
  params: Json[];
  body?: Json;
}

/** Every path and method of the document. */
export function operations(doc: Json): Operation[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      params: ((op as Json).parameters ?? []) as Json[],
      body: (op as Json).requestBody?.content?.['application/json']?.schema as Json | undefined,
    })),
  );
}

/** The kind of id a path parameter names: the segment before it (run, evaluation-label…). */
const kindOf = (path: string, name: string) =>
  path.split('/')[path.split('/').indexOf(`{${name}}`) - 1] ?? name;

function requestFor(doc: Json, op: Operation, pool: IdPool): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const headerParams = op.params.filter((p) => p.in === 'header');
  const documented = fc.record(
    Object.fromEntries(
      headerParams.map((p) => [
        (p.name as string).toLowerCase(),
        headerValue(pool, p.name as string),
      ]),
    ),
    { requiredKeys: [] },
  );
  // Every GET of one resource reads If-None-Match (its ETag); the others ignore it.
  const ifNoneMatch = fc.option(hostileHeader, { freq: op.method === 'GET' ? 4 : 20 });
  const path = fc.tuple(
    ...pathParams.map((p) => pathValue(kindOf(op.path, p.name as string), pool)),
  );
  // Valid parameters around one hostile one, so that the hostile value reaches the code
  // that reads it rather than a refusal of its neighbours.
  const query = fc.tuple(
    fc.record(
      Object.fromEntries(
        queryParams
          // A cursor is opaque: only a hostile one can be made up.
          .filter((p) => p.name !== 'cursor')
          .map((p) => [
            p.name as string,
            validQueryValue(doc, p.schema as Json, pool, p.name as string).map((v) => [v]),
          ]),
      ),
      { requiredKeys: [] },
    ),
    queryParams.length
      ? fc.option(
          fc.oneof(
            ...queryParams.map((p) =>
              hostileQueryValue(p.name as string).map((v) => [p.name as string, v] as const),
            ),
          ),
          { freq: 3 },
        )
      : fc.constant(null),
    fc.option(fc.tuple(anyText, anyText), { freq: 8 }),
  );
  const body = op.body
    ? fc.oneof(
        { weight: 4, arbitrary: objectFor(doc, deref(doc, op.body), pool).map(toJson) },
        { weight: 1, arbitrary: anyJson.map(toJson) },
        { weight: 1, arbitrary: brokenBody },
      )
    : fc.option(brokenBody, { freq: 10 });
  return fc
    .record({
      path,
      query,
      body,
      authorization,
      contentType,
      extraHeaders,
      documented,
      accept,
      ifNoneMatch,
    })
    .map(
      ({
        path: values,
        query: [q, hostile, extra],
        body: b,
        authorization: auth,
        contentType: ct,
        extraHeaders: eh,
        documented: dh,
        accept: ac,
        ifNoneMatch: inm,
      }) => {
        let url = op.path;
        pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, values[i])));
        const pairs = Object.entries(q)
          .filter(([k]) => k !== hostile?.[0])
          .flatMap(([k, vs]) => (vs as string[]).map((v) => `${k}=${v}`));
        if (hostile) pairs.push(`${hostile[0]}=${hostile[1]}`);
        if (extra) pairs.push(`${encode(extra[0])}=${encode(extra[1])}`);
        if (pairs.length) url += `?${pairs.join('&')}`;
        // Never an event stream (GET /v1/events): it would not end.
        const headers: Record<string, string | string[]> = {
          accept: op.path === '/v1/events' && opensStream(ac) ? 'application/json' : ac,
          ...dh,
          ...eh,
        };
        if (inm !== null) headers['if-none-match'] = inm;
        if (auth) headers.authorization = auth;
        if (b !== null && b !== undefined && ct) headers['content-type'] = ct;
        return {
          method: op.method,
          url,
          headers,
          body: b ?? undefined,
          label: `${op.method} ${op.path}`,
        };
      },
    );
}

/** Requests over every operation of the document, one arbitrary per operation. */
export function fuzzRequests(doc: Json, pool: IdPool): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(...operations(doc).map((op) => requestFor(doc, op, pool)));
}
