import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { createEvaluation, createEvaluator, createLabel, createRun } from './support/factories.js';
import { rawRequest } from './support/raw-http.js';
import { rowCounts } from './support/row-counts.js';

const shape = (code: string) => ({
  error: expect.any(String),
  code,
  request_id: expect.any(String),
});

const nest = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe.each(DATABASES)('hostile input on $name', (db) => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startApp(db, { BAD_TOKEN_LIMIT: '0' });
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(() => t.close());

  const postJson = (path: string, json: string) =>
    t.http.post(path).set(bearer()).set('content-type', 'application/json').send(json);

  /** Sends each body, expects the code, and that none of them wrote a row. */
  async function refused(path: string, bodies: string[], status: number, code: string) {
    const before = await rowCounts(t.dataSource);
    for (const body of bodies) {
      const res = await postJson(path, body);
      expect([body.slice(0, 80), res.status, res.body]).toEqual([
        body.slice(0, 80),
        status,
        expect.objectContaining(shape(code)),
      ]);
    }
    expect(await rowCounts(t.dataSource)).toEqual(before);
  }

  describe('text that cannot be stored exactly as sent is a 400', () => {
    const nul = '"a\\u0000b"';
    const lone = '"a\\ud800b"';
    const bom = '"\\ufeffb"';

    it('NUL, a lone surrogate or a leading U+FEFF, in any value or key, at any depth', async () => {
      const run = await createRun(t.http, { outputs: { answer: 'x' } });
      const label = await createLabel(t.http);
      for (const bad of [nul, lone, bom]) {
        await refused(
          '/v1/runs',
          [
            `{"name":${bad}}`,
            `{"workflow":${bad}}`,
            `{"outputs":{${bad}:1}}`,
            `{"inputs":{"a":[{"b":${bad}}]}}`,
            `{"metadata":{"deep":{${bad}:{"x":1}}}}`,
            `{${bad}:1}`,
          ],
          400,
          'invalid_text',
        );
        await refused(
          '/v1/evaluation-labels',
          [
            `{"name":${bad},"value_type":"binary"}`,
            `{"name":"c","value_type":"categorical","categories":["a",${bad}]}`,
          ],
          400,
          'invalid_text',
        );
        await refused(
          `/v1/run/${run.id}/evaluations`,
          [`{"evaluation_label_id":"${label.id}","value":1,"output_name":${bad}}`],
          400,
          'invalid_text',
        );
      }
    });

    it('a body that is not UTF-8 is a 400, not text with U+FFFD in it', async () => {
      const before = await rowCounts(t.dataSource);
      for (const bytes of [
        [0xff, 0xfe],
        [0xed, 0xa0, 0x80],
        [0xc0, 0xaf],
      ]) {
        const body = Buffer.from([...Buffer.from('{"name":"a'), ...bytes, ...Buffer.from('"}')]);
        const res = await t.http
          .post('/v1/runs')
          .set(bearer())
          .set('content-type', 'application/json')
          .serialize(() => body as unknown as string)
          .send({});
        expect([bytes, res.status, res.body]).toEqual([
          bytes,
          400,
          expect.objectContaining(shape('invalid_text')),
        ]);
      }
      expect(await rowCounts(t.dataSource)).toEqual(before);
    });

    it('what is accepted reads back exactly: U+FEFF inside, astral characters, NUL-free controls', async () => {
      const name = 'a\ufeffb 😀 \u0001\u001f ☺️ \u{10ffff}';
      const run = await createRun(t.http, { name, outputs: { [name]: name } });
      const read = await t.http.get(`/v1/run/${run.id}`).set(bearer());
      expect(read.body.name).toBe(name);
      expect(read.body.outputs).toEqual({ [name]: name });
    });
  });

  describe('query parameters that are not text are a 400 naming the parameter', () => {
    let label: string;
    let run: string;
    beforeAll(async () => {
      run = (await createRun(t.http, { outputs: { answer: 'x' } })).id;
      label = (await createLabel(t.http)).id;
      await createEvaluation(t.http, run, { evaluation_label_id: label, value: 1 });
    });

    const encodings = {
      '%00': /NUL/,
      'a%00b': /NUL/,
      '%ED%A0%80': /not valid UTF-8/,
      '%ED%BF%BF': /not valid UTF-8/,
      '%FF': /not valid UTF-8/,
      '%C0%AF': /not valid UTF-8/,
      '%E2%82': /not valid UTF-8/,
      '%zz': /malformed percent-encoding/,
    };

    it('in every text filter of every list, export, statistic and comparison', async () => {
      const routes: [string, string[], Record<string, string>?][] = [
        [`/v1/evaluation-label/${label}/stats`, ['workflow', 'output_name', 'created_by']],
        [
          `/v1/evaluation-label/${label}/compare`,
          ['baseline.workflow', 'candidate.created_by', 'baseline.output_name'],
        ],
        ['/v1/evaluations', ['output_name', 'created_by', 'workflow', 'cursor']],
        ['/v1/evaluations', ['output_name', 'created_by'], { accept: 'text/csv' }],
        ['/v1/evaluations', ['workflow'], { accept: 'application/x-ndjson' }],
        [`/v1/run/${run}/evaluations`, ['output_name', 'created_by']],
        ['/v1/runs', ['created_by', 'cursor']],
        ['/v1/evaluation-labels', ['cursor']],
      ];
      const before = await rowCounts(t.dataSource);
      for (const [path, names, headers] of routes) {
        for (const name of names) {
          for (const [encoded, problem] of Object.entries(encodings)) {
            const res = await t.http
              .get(`${path}?${name}=${encoded}`)
              .set(bearer())
              .set(headers ?? {});
            const what = `${path} ${name}=${encoded}`;
            expect([what, res.status, res.body]).toEqual([
              what,
              400,
              expect.objectContaining(shape('invalid_text')),
            ]);
            expect(res.body.details).toEqual([{ field: name, message: expect.any(String) }]);
            expect(res.body.error).toMatch(problem);
          }
        }
      }
      expect(await rowCounts(t.dataSource)).toEqual(before);
    });

    it('in the name of a parameter too; good UTF-8, U+FFFD included, is answered', async () => {
      const bad = await t.http.get('/v1/evaluations?a%00=1').set(bearer());
      expect([bad.status, bad.body.code]).toEqual([400, 'invalid_text']);
      for (const value of ['%EF%BF%BD', '%F0%9F%98%80', 'caf%C3%A9', 'a+b']) {
        const res = await t.http.get(`/v1/evaluations?created_by=${value}`).set(bearer());
        expect([value, res.status, res.body]).toEqual([value, 200, []]);
      }
    });
  });

  describe('instants are those PostgreSQL can hold', () => {
    it('a filter at the ends of what PostgreSQL holds is answered; the years 1 BC and 10000 too', async () => {
      const label = (await createLabel(t.http)).id;
      const run = (await createRun(t.http)).id;
      await createEvaluation(t.http, run, { evaluation_label_id: label, value: 1 });
      const early = [
        '0001-01-01T00:00:00+14:00',
        '0000-01-01T00:00:00Z',
        '0000-06-01T00:00:00-23:59',
      ];
      const late = ['9999-12-31T23:59:59-23:59', '9999-12-31T23:59:59Z'];
      for (const from of early) {
        for (const to of late) {
          const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
          const stats = await t.http.get(`/v1/evaluation-label/${label}/stats?${q}`).set(bearer());
          expect([q, stats.status, stats.body.groups?.[0]?.n]).toEqual([q, 200, 1]);
          const list = await t.http
            .get(`/v1/evaluations?evaluation_label_id=${label}&${q}`)
            .set(bearer());
          expect([q, list.status, list.body.length]).toEqual([q, 200, 1]);
          const csv = await t.http
            .get(`/v1/evaluations?evaluation_label_id=${label}&${q}`)
            .set(bearer())
            .set('accept', 'text/csv');
          expect([q, csv.status, csv.text.split('\r\n').length]).toEqual([q, 200, 3]);
          const compare = await t.http
            .get(
              `/v1/evaluation-label/${label}/compare?baseline.from=${encodeURIComponent(from)}` +
                `&candidate.to=${encodeURIComponent(to)}`,
            )
            .set(bearer());
          expect([q, compare.status, compare.body.baseline?.n]).toEqual([q, 200, 1]);
        }
      }
    });

    it('a completed_at in the year 10000 once in UTC reads back as sent', async () => {
      for (const [sent, read] of [
        ['9999-12-31T23:59:59-23:59', '+010000-01-01T23:58:59.000Z'],
        ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59.000Z'],
      ]) {
        const run = await createRun(t.http, { completed_at: sent });
        expect(run.completed_at).toBe(read);
        const got = await t.http.get(`/v1/run/${run.id}`).set(bearer());
        expect([sent, got.status, got.body.completed_at]).toEqual([sent, 200, read]);
      }
    });

    it('an instant before 4714-11-24 BC, or one no Date can hold, is a 400 naming the field', async () => {
      const before = await rowCounts(t.dataSource);
      for (const completed_at of ['-9999-01-01T00:00:00Z', '-4714-01-01T00:00:00Z']) {
        const res = await t.http.post('/v1/runs').set(bearer()).send({ completed_at });
        expect([completed_at, res.status, res.body.code, res.body.details]).toEqual([
          completed_at,
          400,
          'validation_failed',
          [{ field: 'completed_at', message: expect.stringMatching(/can hold/) }],
        ]);
      }
      expect(await rowCounts(t.dataSource)).toEqual(before);
    });
  });

  describe('nesting', () => {
    it('64 levels are accepted, 65 refused with a 400', async () => {
      const at = (depth: number) => `{"outputs":{"a":${nest(depth - 2)}}}`;
      expect((await postJson('/v1/runs', at(64))).status).toBe(201);
      await refused('/v1/runs', [at(65)], 400, 'nesting_too_deep');
    });

    it('100,000 levels under BODY_LIMIT answer 400 at once, without overflowing the stack', async () => {
      const started = Date.now();
      await refused(
        '/v1/runs',
        [
          `{"outputs":{"a":${nest(100_000)}}}`,
          `{"inputs":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
        ],
        400,
        'nesting_too_deep',
      );
      expect(Date.now() - started).toBeLessThan(5000);
    });
  });

  describe('lengths are counted as the database counts them (code points)', () => {
    it('200 characters with variation selectors or astral characters fit a label name; 201 do not', async () => {
      for (const unit of ['☺️', '😀', 'é']) {
        const name = [...unit.repeat(200)].slice(0, 200).join('');
        const made = await t.http
          .post('/v1/evaluation-labels')
          .set(bearer())
          .send({ name, value_type: 'binary' });
        expect([unit, made.status]).toEqual([unit, 201]);
        expect(
          (await t.http.get(`/v1/evaluation-label/${made.body.id}`).set(bearer())).body.name,
        ).toBe(name);
        const tooLong = await t.http
          .post('/v1/evaluation-labels')
          .set(bearer())
          .send({ name: `${name}x`, value_type: 'binary' });
        expect([unit, tooLong.status, tooLong.body.code]).toEqual([unit, 400, 'validation_failed']);
      }
    });

    it('an account_id claim of 200 emoji is an account; of 201, a 401', async () => {
      const ok = await t.http.get('/v1/runs').set(bearer(token({ account: '☺️'.repeat(100) })));
      expect(ok.status).toBe(200);
      const long = await t.http.get('/v1/runs').set(bearer(token({ account: '😀'.repeat(201) })));
      expect([long.status, long.body.code]).toEqual([401, 'unauthorized']);
    });

    it('token claims that cannot be stored as sent are a 401', async () => {
      for (const claims of [{ sub: 'a\u0000' }, { account: 'acme\ud800' }, { sub: '\ufeffbob' }]) {
        const res = await t.http
          .post('/v1/runs')
          .set(bearer(token(claims)))
          .send({});
        expect([claims, res.status]).toEqual([claims, 401]);
      }
    });
  });

  describe('ids are stored and answered the same', () => {
    it('an upper-case evaluator_id is answered as it is stored: lower case', async () => {
      const evaluator = (await createEvaluator(t.http)).id.toUpperCase();
      const run = await createRun(t.http);
      const label = await createLabel(t.http, { value_type: 'binary' });
      const made = await t.http
        .post(`/v1/run/${run.id}/evaluations`)
        .set(bearer(token({ evaluator })))
        .send({ evaluation_label_id: label.id, value: 1 });
      expect(made.status).toBe(201);
      const read = await t.http.get(`/v1/run/${run.id}/evaluation/${made.body.id}`).set(bearer());
      expect(made.body.created_by_evaluator_id).toBe(evaluator.toLowerCase());
      expect(read.body.created_by_evaluator_id).toBe(made.body.created_by_evaluator_id);
    });

    it('an upper-case run id is answered as it is stored', async () => {
      const id = randomUUID().toUpperCase();
      const made = await createRun(t.http, { id });
      const read = await t.http.get(`/v1/run/${id}`).set(bearer());
      expect(made.id).toBe(id.toLowerCase());
      expect(read.body.id).toBe(made.id);
    });
  });

  it('forged cursors are a 400 invalid_cursor, never a 500', async () => {
    const forge = (at: unknown, id: unknown = randomUUID()) =>
      Buffer.from(JSON.stringify([at, id])).toString('base64url');
    const cursors = [
      forge('+275760-09-13T00:00:00.000Z'),
      forge('-000001-01-01T00:00:00.000Z'),
      forge('0000-01-01T00:00:00.000Z'),
      forge('2026-02-31T00:00:00.000Z'),
      forge('NaN'),
      forge(1e400),
      forge('2026-01-01T00:00:00.000Z', '------------------------------------'),
      forge('2026-01-01T00:00:00.000Z', 'x'.repeat(10_000)),
      'A'.repeat(5000),
      '%00',
    ];
    for (const cursor of cursors) {
      for (const path of ['/v1/runs', '/v1/evaluation-labels']) {
        const res = await t.http.get(path).query({ cursor }).set(bearer());
        expect([cursor.slice(0, 40), res.status, res.body.code]).toEqual([
          cursor.slice(0, 40),
          400,
          'invalid_cursor',
        ]);
      }
    }
  });

  it('?limit=abc names its one problem once', async () => {
    const res = await t.http.get('/v1/runs?limit=abc').set(bearer());
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([
      { field: 'limit', message: 'limit must be a whole number from 1 to 1000' },
    ]);
  });

  describe('field_path does bounded work', () => {
    let runId: string;
    let labelId: string;
    beforeAll(async () => {
      let deep: unknown = 'leaf';
      for (let i = 0; i < 60; i++) deep = { a: deep, b: [i, { c: i }] };
      const run = await createRun(t.http, {
        outputs: { text: `${'a'.repeat(50_000)}!`, deep },
      });
      runId = run.id;
      labelId = (await createLabel(t.http, { value_type: 'binary' })).id;
    });

    const post = (field_path: string) =>
      t.http
        .post(`/v1/run/${runId}/evaluations`)
        .set(bearer())
        .send({ evaluation_label_id: labelId, value: 1, field_path });

    it('a recursive descent through 60 levels is answered, not a 500', async () => {
      expect((await post('$..a')).status).toBe(201);
      const res = await post(`$${'..*'.repeat(8)}`);
      expect([201, 422]).toContain(res.status);
    });

    it('a backtracking regular expression answers within a bound while others are served', async () => {
      const before = await rowCounts(t.dataSource);
      for (const path of [
        "$[?search(@, '(a+)+$')]",
        "$[?match(@, '(a|a)*b')]",
        "$.text[?search(@, '(a|aa)*c')]",
        "$[?search(@.text, '(.*a){20}!x')]",
      ]) {
        const started = Date.now();
        let otherAnswered = 0;
        const [res, other] = await Promise.all([
          post(path),
          t.http.get('/health/live').then((r) => ((otherAnswered = Date.now() - started), r)),
        ]);
        expect([path, res.status]).toEqual([path, expect.any(Number)]);
        expect([path, [422, 201].includes(res.status), res.status < 500]).toEqual([
          path,
          true,
          true,
        ]);
        expect(other.status).toBe(200);
        expect([path, Date.now() - started < 3000, otherAnswered < 3000]).toEqual([
          path,
          true,
          true,
        ]);
      }
      expect((await rowCounts(t.dataSource)).run_evaluations).toBeGreaterThanOrEqual(
        before.run_evaluations,
      );
    });

    it('deeply nested brackets are answered, unions that multiply nodes are a 422', async () => {
      const nested = await post(`$[?${'('.repeat(990)}@${')'.repeat(990)}]`);
      expect([201, 422]).toContain(nested.status);
      const union = await post(`$${'[*,*,*,*,*,*,*,*,*,*]'.repeat(12)}`);
      expect([union.status, union.body.code]).toEqual([422, 'field_path_too_costly']);
    });
  });

  describe('errors from below the application come in the one body', () => {
    const cases: [string, string, number, string][] = [
      ['a bad request line', 'GARBAGE\r\n\r\n', 400, 'malformed_request'],
      ['an unknown method', 'BREW /v1/runs HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'malformed_request'],
      [
        'Content-Length with Transfer-Encoding',
        'POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        400,
        'malformed_request',
      ],
      [
        'two Content-Lengths',
        'POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
        400,
        'malformed_request',
      ],
      [
        'headers over the size limit',
        `GET /v1/runs HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'headers_too_large',
      ],
      [
        'bad percent-encoding',
        'GET /v1/run/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        400,
        'malformed_request',
      ],
      [
        'a path parameter over maxParamLength',
        `GET /v1/run/${'a'.repeat(200)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        414,
        'uri_too_long',
      ],
    ];
    it('a body the parser refuses after the app has answered gets no second answer', async () => {
      const res = await rawRequest(
        port,
        `GET /v1/run/${'a'.repeat(200)} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n`,
      );
      expect(res.body).toEqual(expect.objectContaining({ code: expect.any(String) }));
    });

    it.each(cases)('%s', async (_, bytes, status, code) => {
      const res = await rawRequest(port, bytes);
      expect(res.status).toBe(status);
      expect(res.body).toEqual(shape(code));
      expect(res.headers['x-request-id']).toBe((res.body as { request_id: string }).request_id);
    });
  });
});

describe.each(DATABASES)('refused tokens on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db, { BAD_TOKEN_LIMIT: '3', RATE_LIMIT_WINDOW: '60' });
  });
  afterAll(() => t.close());

  it('are limited per address: 429 with Retry-After past BAD_TOKEN_LIMIT', async () => {
    const good = bearer();
    expect((await t.http.get('/v1/runs').set(good)).status).toBe(200);
    const forged = bearer(token({ secret: 'another-secret-that-is-32-bytes-long!!' }));
    for (let i = 0; i < 3; i++) {
      expect((await t.http.get('/v1/runs').set(forged)).status).toBe(401);
    }
    for (const auth of [forged, {}, bearer(token({ sub: 'mallory' }))]) {
      const res = await t.http.get('/v1/runs').set(auth);
      expect(res.status).toBe(429);
      expect(res.body).toEqual(shape('rate_limited'));
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    // A token already verified goes on: the limit is on guessing, not on the address.
    expect((await t.http.get('/v1/runs').set(good)).status).toBe(200);
  });
});
