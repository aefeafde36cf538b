import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { EXPORT_PAGE } from '../src/stats/evaluation-list.service.js';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import {
  type Created,
  createEvaluation,
  createLabel,
  createRun,
  insertEvaluations,
} from './support/factories.js';

const parseNdjson = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { id: string; value: number });

describe.each(DATABASES)('evaluations across runs on $name', (db) => {
  let t: TestApp;
  let label: Created;
  let other: Created;
  let runA: Created;
  let runB: Created;
  let evaluator: string;
  beforeAll(async () => {
    t = await startApp(db);
    const registered = await t.http
      .post('/v1/evaluators')
      .set(bearer())
      .send({ name: `judge ${randomUUID()}`, kind: 'llm_judge' });
    evaluator = (registered.body as Created).id;
    label = await createLabel(t.http);
    other = await createLabel(t.http, { value_type: 'binary' });
    runA = await createRun(t.http, { workflow: 'triage' });
    runB = await createRun(t.http, { workflow: 'billing' });
    await createEvaluation(t.http, runA.id, {
      evaluation_label_id: label.id,
      value: 1,
      output_name: 'a, "quoted"\nname',
    });
    await createEvaluation(t.http, runB.id, { evaluation_label_id: label.id, value: 2.5 });
    await createEvaluation(
      t.http,
      runA.id,
      { evaluation_label_id: other.id, value: 0 },
      bearer(token({ evaluator })),
    );
    await createEvaluation(t.http, runB.id, { evaluation_label_id: label.id, value: 4 });
    // Another account's rows never show.
    const theirs = bearer(token({ account: 'globex' }));
    const theirLabel = await createLabel(t.http, {}, theirs);
    const theirRun = await createRun(t.http, { workflow: 'triage' }, theirs);
    await createEvaluation(
      t.http,
      theirRun.id,
      { evaluation_label_id: theirLabel.id, value: 3 },
      theirs,
    );
  });
  afterAll(() => t.close());

  const list = (query = '', accept?: string) => {
    const req = t.http.get(`/v1/evaluations${query}`).set(bearer());
    return accept ? req.set('Accept', accept) : req;
  };
  const values = (body: { value: number }[]) => body.map((e) => e.value);

  it('lists every run of the account, oldest first, with the filters of a run list', async () => {
    expect(values((await list()).body)).toEqual([1, 2.5, 0, 4]);
    expect(values((await list(`?evaluation_label_id=${label.id}`)).body)).toEqual([1, 2.5, 4]);
    expect(values((await list('?workflow=billing')).body)).toEqual([2.5, 4]);
    expect(values((await list(`?created_by_evaluator_id=${evaluator}`)).body)).toEqual([0]);
    expect(values((await list('?created_by=alice&workflow=triage')).body)).toEqual([1]);
    expect(values((await list('?output_name=nothing')).body)).toEqual([]);
  });

  it('takes a half-open [from, to) and pages by Link like every list', async () => {
    const all = (await list()).body as { created_at: string }[];
    const res = await list(`?from=${all[1].created_at}&to=${all[3].created_at}`);
    expect(values(res.body)).toEqual([2.5, 0]);
    const first = await list('?limit=3');
    expect(values(first.body)).toEqual([1, 2.5, 0]);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.link)![1];
    expect(next).toContain('limit=3');
    const second = await t.http.get(next).set(bearer());
    expect([values(second.body), second.headers.link]).toEqual([[4], undefined]);
  });

  it.each([
    ['?from=monday', 'from'],
    ['?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
    ['?workflow=a&workflow=b', 'workflow'],
    ['?evaluation_label_id=7', 'evaluation_label_id'],
    ['?limit=0', 'limit'],
    ['?colour=red', 'colour'],
  ])('%s is a 400 in the one error body, for JSON and exports alike', async (query, field) => {
    for (const accept of [undefined, 'application/x-ndjson', 'text/csv']) {
      const res = await list(query, accept);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'validation_failed', request_id: expect.any(String) });
      expect(res.body.details).toContainEqual(expect.objectContaining({ field }));
    }
    const cursor = await list('?cursor=nonsense', 'text/csv');
    expect([cursor.status, cursor.body.code]).toEqual([400, 'invalid_cursor']);
  });

  it('negotiates Accept with its q-values, JSON winning ties; one that allows none is a 406', async () => {
    const typeOf = async (accept: string) => {
      const res = await list(`?evaluation_label_id=${label.id}`, accept);
      return [accept, res.status, res.headers['content-type']];
    };
    const json = 'application/json; charset=utf-8';
    const csv = 'text/csv; charset=utf-8';
    for (const [accept, type] of [
      ['*/*', json],
      ['text/csv, application/json', json],
      ['text/csv, */*', json],
      ['text/csv;q=0.5, application/json', json],
      ['application/json;q=0.5, text/csv', csv],
      ['application/json;q=0, */*;q=0.1', 'application/x-ndjson'],
      ['text/*', csv],
      ['text/html, text/csv;q=0.2', csv],
    ]) {
      expect(await typeOf(accept)).toEqual([accept, 200, type]);
    }
    for (const accept of ['text/html', 'application/json;q=0', 'text/csv;q=0, */*;q=0']) {
      const res = await list('', accept);
      expect([accept, res.status, res.body.code, res.body.details]).toEqual([
        accept,
        406,
        'not_acceptable',
        [
          {
            field: 'Accept',
            message: 'must allow one of application/json, application/x-ndjson, text/csv',
          },
        ],
      ]);
    }
  });

  it('exports every matching row as NDJSON', async () => {
    const res = await list(`?evaluation_label_id=${label.id}&limit=1`, 'application/x-ndjson');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.headers.link).toBeUndefined();
    const rows = parseNdjson(res.text);
    const json = (await list(`?evaluation_label_id=${label.id}`)).body;
    expect(rows).toEqual(json);
  });

  it('exports every matching row as CSV, quoting what needs it', async () => {
    const res = await list('?workflow=triage', 'text/csv;q=0.9, application/json;q=0.5');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const [header, first, second, end] = res.text.split('\r\n').reduce<string[]>((lines, line) => {
      // A quoted field may hold a line break: join until quotes balance.
      const last = lines.at(-1);
      if (last !== undefined && (last.split('"').length - 1) % 2 === 1)
        lines[lines.length - 1] = `${last}\r\n${line}`;
      else lines.push(line);
      return lines;
    }, []);
    expect(header).toBe(
      'id,account_id,run_id,output_name,field_path,evaluation_label_id,value,created_by,created_by_evaluator_id,created_at,updated_by,updated_at,label_version',
    );
    const json = (await list('?workflow=triage')).body;
    expect(first).toBe(
      [
        json[0].id,
        'acme',
        runA.id,
        '"a, ""quoted""\nname"',
        '',
        label.id,
        '1',
        'alice',
        '',
        json[0].created_at,
        '',
        json[0].updated_at,
        '1',
      ].join(','),
    );
    expect(second.split(',').slice(6, 9)).toEqual(['0', '', evaluator]);
    expect(end).toBe('');
  });

  it('CSV: text a spreadsheet would run as a formula gets a leading quote; numbers and NDJSON are as stored', async () => {
    const account = `@acct-${randomUUID()}`;
    const writer = bearer(token({ account, sub: '=HYPERLINK("http://x.invalid","go")' }));
    const updater = bearer(token({ account, sub: '+updater' }));
    const signed = await createLabel(t.http, { min_value: -10, max_value: 10 }, writer);
    const run = await createRun(t.http, {}, writer);
    const names = ['=1+2', '+cmd', '-2+3', '@SUM(A1)', '\tx', '\rx', 'plain', 'a=b'];
    for (const [i, output_name] of names.entries()) {
      const made = await createEvaluation(
        t.http,
        run.id,
        { evaluation_label_id: signed.id, value: -1.5 - i, output_name },
        writer,
      );
      if (i === 0) {
        const path = `/v1/run/${run.id}/evaluation/${made.id}`;
        expect((await t.http.put(path).set(updater).send({ value: -1.5 })).status).toBe(200);
      }
    }
    const csv = await t.http.get('/v1/evaluations').set(writer).set('Accept', 'text/csv');
    const rows = csv.text
      .split(/\r\n(?=[0-9a-f]{8}-)/)
      .slice(1)
      .map((line) => line.replace(/\r\n$/, ''));
    const cells = (row: string) => {
      const [, account_id, , output_name, , , value, created_by, , , updated_by] = row
        .match(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)!
        .map((c) => c.replace(/,$/, ''));
      return { account_id, output_name, value, created_by, updated_by };
    };
    expect(rows.map(cells)).toEqual(
      names.map((name, i) => ({
        account_id: `'${account}`,
        output_name: {
          '=1+2': "'=1+2",
          '+cmd': "'+cmd",
          '-2+3': "'-2+3",
          '@SUM(A1)': "'@SUM(A1)",
          '\tx': "'\tx",
          '\rx': `"'\rx"`,
          plain: 'plain',
          'a=b': 'a=b',
        }[name],
        value: String(-1.5 - i),
        created_by: `"'=HYPERLINK(""http://x.invalid"",""go"")"`,
        updated_by: i === 0 ? "'+updater" : '',
      })),
    );
    const ndjson = await t.http
      .get('/v1/evaluations')
      .set(writer)
      .set('Accept', 'application/x-ndjson');
    const exact = parseNdjson(ndjson.text) as unknown as Record<string, unknown>[];
    expect(exact.map((e) => [e.account_id, e.output_name, e.value, e.created_by])).toEqual(
      names.map((name, i) => [account, name, -1.5 - i, '=HYPERLINK("http://x.invalid","go")']),
    );
  });

  it('streams a large export in keyset pages, and stops reading while the client does not', async () => {
    const big = await createLabel(t.http);
    const run = await createRun(t.http);
    const total = 100_000;
    const pageCount = total / EXPORT_PAGE;
    await insertEvaluations(t.dataSource, 'acme', run.id, big.id, total);
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const spy = jest.spyOn(t.dataSource, 'query');
    // The export's own reads; the outbox's background rounds use the same data source.
    const pages = () => spy.mock.calls.filter(([sql]) => sql.includes('run_evaluations')).length;
    let res: IncomingMessage | undefined;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        httpRequest(
          {
            port,
            host: '127.0.0.1',
            path: `/v1/evaluations?evaluation_label_id=${big.id}`,
            headers: { ...bearer(), Accept: 'application/x-ndjson' },
          },
          resolve,
        )
          .on('error', reject)
          .end();
      });
      expect(res.statusCode).toBe(200);
      // Read one chunk, then stop reading for a while.
      res.pause();
      await new Promise((r) => setTimeout(r, 1500));
      const whilePaused = pages();
      await new Promise((r) => setTimeout(r, 1000));
      // Reads have stopped, far short of the whole result.
      expect(pages()).toBe(whilePaused);
      expect(whilePaused).toBeLessThan(pageCount / 2);
      const chunks: Buffer[] = [];
      const body = res;
      body.on('data', (c: Buffer) => chunks.push(c));
      body.resume();
      await new Promise((r) => body.on('end', r));
      const rows = parseNdjson(Buffer.concat(chunks).toString('utf8'));
      expect(rows).toHaveLength(total);
      expect(new Set(rows.map((r) => r.id)).size).toBe(total);
      expect(pages()).toBeGreaterThanOrEqual(pageCount);
    } finally {
      res?.destroy(); // a failed expectation must not leave the export open
      spy.mockRestore();
    }
  });
});
