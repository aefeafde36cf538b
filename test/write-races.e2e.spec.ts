import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { RowCache, type VersionedRow } from '../src/writes/row-cache.js';
import { WriteScope } from '../src/writes/write-scope.js';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { createEvaluation, createLabel, createRun, scoredRun } from './support/factories.js';
import { until } from './support/until.js';

/**
 * Evaluations are made at once: their runs, labels and evaluator are read without locks,
 * and the one statement that writes checks that none changed since. These specs land
 * another client's change in that gap, through the API, and see the write act on it.
 */
describe.each(DATABASES)('evaluations written at once on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());
  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** Runs `change` right after each of the next `times` reads a write depends on. */
  function inTheGap(change: () => Promise<unknown>, times = 1): { landed: () => number } {
    // The method itself, called below with the scope as `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const read = WriteScope.prototype.readShared;
    let landed = 0;
    jest.spyOn(WriteScope.prototype, 'readShared').mockImplementation(async function (
      this: WriteScope,
      ...args: Parameters<typeof read>
    ) {
      const rows = await read.apply(this, args);
      if (landed < times) {
        landed++;
        await change();
      }
      return rows;
    });
    return { landed: () => landed };
  }

  const evaluationsOf = async (runId: string) =>
    (await t.http.get(`/v1/run/${runId}/evaluations`).set(bearer())).body as { value: number }[];

  const post = (runId: string, body: object, auth = bearer()) =>
    t.http.post(`/v1/run/${runId}/evaluations`).set(auth).send(body);

  it('refuses a label archived after it was read, and writes nothing', async () => {
    const label = await createLabel(t.http);
    // Used once: then it can only be archived, not deleted. On another run, which this
    // write has never read.
    const [used, run] = [await createRun(t.http), await createRun(t.http)];
    expect((await post(used.id, { evaluation_label_id: label.id, value: 1 })).status).toBe(201);
    const gap = inTheGap(() =>
      t.http.delete(`/v1/evaluation-label/${label.id}`).set(bearer()).expect(204),
    );
    const res = await post(run.id, { evaluation_label_id: label.id, value: 2 });
    expect(gap.landed()).toBe(1);
    expect([res.status, res.body.code]).toEqual([422, 'label_archived']);
    expect(await evaluationsOf(run.id)).toEqual([]);
  });

  it('refuses an output the run no longer has after it was read', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http, { outputs: { answer: 'yes' } });
    inTheGap(() =>
      t.http
        .patch(`/v1/run/${run.id}`)
        .set(bearer())
        .send({ outputs: { verdict: 'yes' } })
        .expect(200),
    );
    const res = await post(run.id, {
      evaluation_label_id: label.id,
      value: 1,
      output_name: 'answer',
    });
    expect([res.status, res.body.code]).toEqual([422, 'unknown_output']);
    expect(await evaluationsOf(run.id)).toEqual([]);
  });

  it('refuses a run deleted after it was read', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    inTheGap(() => t.http.delete(`/v1/run/${run.id}`).set(bearer()).expect(204));
    const res = await post(run.id, { evaluation_label_id: label.id, value: 1 });
    expect([res.status, res.body.code]).toEqual([404, 'not_found']);
    const [{ n }] = await t.dataSource.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM run_evaluations WHERE run_id = $1',
      [run.id],
    );
    expect(n).toBe(0);
  });

  it('refuses an evaluator disabled after it was read', async () => {
    const evaluator = await t.http
      .post('/v1/evaluators')
      .set(bearer())
      .send({ name: `judge-${randomUUID()}`, kind: 'llm_judge' })
      .expect(201);
    const judge = bearer(token({ evaluator: evaluator.body.id as string }));
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    expect((await post(run.id, { evaluation_label_id: label.id, value: 1 }, judge)).status).toBe(
      201,
    );
    // It wrote, so DELETE disables it.
    inTheGap(() =>
      t.http
        .delete(`/v1/evaluator/${String(evaluator.body.id)}`)
        .set(bearer())
        .expect(204),
    );
    const res = await post(run.id, { evaluation_label_id: label.id, value: 2 }, judge);
    expect([res.status, res.body.code]).toEqual([403, 'evaluator_disabled']);
    expect((await evaluationsOf(run.id)).map((e) => e.value)).toEqual([1]);
  });

  it('writes once, with the fresh read, when a change that breaks no rule lands in the gap', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const gap = inTheGap(() =>
      t.http
        .patch(`/v1/evaluation-label/${label.id}`)
        .set(bearer())
        .send({ description: 'renamed while a score was written' })
        .expect(200),
    );
    const res = await post(run.id, { evaluation_label_id: label.id, value: 4 });
    expect(res.status).toBe(201);
    expect(gap.landed()).toBe(1);
    expect((await evaluationsOf(run.id)).map((e) => e.value)).toEqual([4]);
    const history = await t.http
      .get(`/v1/run/${run.id}/evaluation/${String(res.body.id)}/history`)
      .set(bearer());
    expect(history.body).toHaveLength(1);
  });

  it('gives up with 409 when what it read keeps changing, and writes nothing', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    let n = 0;
    const gap = inTheGap(
      () =>
        t.http
          .patch(`/v1/run/${run.id}`)
          .set(bearer())
          .send({ name: `run ${++n}` })
          .expect(200),
      Infinity,
    );
    const res = await post(run.id, { evaluation_label_id: label.id, value: 1 });
    expect([res.status, res.body.code]).toEqual([409, 'conflict']);
    expect(res.body.error).toMatch(/kept changing/);
    expect(gap.landed()).toBe(5);
    expect(await evaluationsOf(run.id)).toEqual([]);
  });

  it('changes a value read without a lock again, in turn, when another change lands in the gap', async () => {
    const label = await createLabel(t.http);
    const run = await createRun(t.http);
    const e = await createEvaluation(t.http, run.id, { evaluation_label_id: label.id, value: 1 });
    const url = `/v1/run/${run.id}/evaluation/${e.id}`;
    // The method itself, called below with the scope as `this`.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const query = WriteScope.prototype.query;
    let landed = 0;
    jest.spyOn(WriteScope.prototype, 'query').mockImplementation(async function <T>(
      this: WriteScope,
      sql: string,
      params: unknown[],
    ) {
      const rows = await query.call<WriteScope, [string, unknown[]], Promise<T>>(this, sql, params);
      if (landed === 0 && /FROM run_evaluations e/.test(sql) && !/FOR UPDATE/.test(sql)) {
        landed++;
        await t.http.put(url).set(bearer()).send({ value: 2 }).expect(200);
      }
      return rows;
    });
    const res = await t.http.put(url).set(bearer()).send({ value: 3 });
    expect([res.status, res.body.value, landed]).toEqual([200, 3, 1]);
    const history = (await t.http.get(`${url}/history`).set(bearer())).body as {
      old_value: number | null;
      new_value: number;
    }[];
    // The value it replaced is the one written in the gap: no update is lost.
    expect(history.map((h) => [h.old_value, h.new_value])).toEqual([
      [null, 1],
      [1, 2],
      [2, 3],
    ]);
  });

  it('keeps a batch whole when one of its runs changes in the gap', async () => {
    const label = await createLabel(t.http);
    const [a, b] = [await createRun(t.http), await createRun(t.http, { outputs: { x: 1 } })];
    inTheGap(() =>
      t.http
        .patch(`/v1/run/${b.id}`)
        .set(bearer())
        .send({ outputs: { y: 1 } })
        .expect(200),
    );
    const res = await t.http
      .post('/v1/evaluations/batch')
      .set(bearer())
      .send({
        items: [
          { run_id: a.id, evaluation_label_id: label.id, value: 1 },
          { run_id: b.id, evaluation_label_id: label.id, value: 2, output_name: 'x' },
        ],
      });
    expect([res.status, res.body.code]).toEqual([422, 'batch_rejected']);
    expect(await evaluationsOf(a.id)).toEqual([]);
    expect(await evaluationsOf(b.id)).toEqual([]);
  });

  describe('with runs and labels kept from earlier writes', () => {
    /** Whether each write's first try found its runs and labels kept, and how often they were read. */
    function watch(): { kept: boolean[]; reads: () => number } {
      // The methods themselves, called below with their objects as `this`.
      // eslint-disable-next-line @typescript-eslint/unbound-method
      const all = RowCache.prototype.all;
      const kept: boolean[] = [];
      jest.spyOn(RowCache.prototype, 'all').mockImplementation(function (
        this: RowCache<VersionedRow>,
        ...args: Parameters<typeof all>
      ) {
        const rows = all.apply(this, args);
        if (this.table === 'evaluation_labels') kept.push(rows !== undefined);
        return rows;
      });
      const reads = jest.spyOn(WriteScope.prototype, 'readShared');
      return { kept, reads: () => reads.mock.calls.length };
    }

    /** A run and a label, both written to once, so that the next write finds them kept. */
    async function used(outputs?: object) {
      const label = await createLabel(t.http);
      const run = await createRun(t.http, outputs && { outputs });
      expect((await post(run.id, { evaluation_label_id: label.id, value: 1 })).status).toBe(201);
      return { label, run };
    }

    it('writes in one statement, reading nothing first', async () => {
      const { label, run } = await used();
      const w = watch();
      const res = await post(run.id, { evaluation_label_id: label.id, value: 2 });
      expect(res.status).toBe(201);
      expect([w.kept, w.reads()]).toEqual([[true], 0]);
      expect((await evaluationsOf(run.id)).map((e) => e.value)).toEqual([1, 2]);
    });

    it('refuses a label archived since, elsewhere, and writes nothing', async () => {
      const { label, run } = await used();
      // As another instance would: the database changes, this instance hears nothing.
      await t.dataSource.query('UPDATE evaluation_labels SET archived_at = now() WHERE id = $1', [
        label.id,
      ]);
      const w = watch();
      const res = await post(run.id, { evaluation_label_id: label.id, value: 2 });
      expect([res.status, res.body.code]).toEqual([422, 'label_archived']);
      expect([w.kept, w.reads()]).toEqual([[true], 1]);
      expect((await evaluationsOf(run.id)).map((e) => e.value)).toEqual([1]);
    });

    it('refuses an output the run no longer has', async () => {
      const { label, run } = await used({ answer: 'yes' });
      await t.http
        .patch(`/v1/run/${run.id}`)
        .set(bearer())
        .send({ outputs: { verdict: 'yes' } })
        .expect(200);
      const w = watch();
      const res = await post(run.id, {
        evaluation_label_id: label.id,
        value: 2,
        output_name: 'answer',
      });
      expect([res.status, res.body.code]).toEqual([422, 'unknown_output']);
      expect([w.kept, w.reads()]).toEqual([[true], 1]);
      expect((await evaluationsOf(run.id)).map((e) => e.value)).toEqual([1]);
    });

    it('refuses a run deleted since', async () => {
      const { label, run } = await used();
      await t.dataSource.query('DELETE FROM runs WHERE id = $1', [run.id]);
      const w = watch();
      const res = await post(run.id, { evaluation_label_id: label.id, value: 2 });
      expect([res.status, res.body.code]).toEqual([404, 'not_found']);
      expect([w.kept, w.reads()]).toEqual([[true], 1]);
    });

    it('writes once, checked against the label as it is now, after a change that breaks no rule', async () => {
      const { label, run } = await used();
      const changed = await t.http
        .patch(`/v1/evaluation-label/${label.id}`)
        .set(bearer())
        .send({ description: 'renamed between two scores' })
        .expect(200);
      const w = watch();
      const res = await post(run.id, { evaluation_label_id: label.id, value: 3 });
      expect(res.status).toBe(201);
      expect([w.kept, w.reads()]).toEqual([[true], 1]);
      expect((await evaluationsOf(run.id)).map((e) => e.value)).toEqual([1, 3]);
      // Kept again as it is now: the next write reads nothing.
      jest.restoreAllMocks();
      const next = watch();
      expect((await post(run.id, { evaluation_label_id: label.id, value: 4 })).status).toBe(201);
      expect([next.kept, next.reads()]).toEqual([[true], 0]);
      expect(changed.body.version).toBe(label.version);
    });

    describe('PUT', () => {
      /** An evaluation already updated once, so that the next update finds it kept. */
      async function updated(labelDef: Record<string, unknown> = {}) {
        const label = await createLabel(t.http, labelDef);
        const run = await createRun(t.http);
        const e = await createEvaluation(t.http, run.id, {
          evaluation_label_id: label.id,
          value: 1,
        });
        const url = `/v1/run/${run.id}/evaluation/${e.id}`;
        await t.http.put(url).set(bearer()).send({ value: 2 }).expect(200);
        return { label, url, id: e.id };
      }

      /** The reads of the evaluation to update that the next writes send. */
      function evaluationReads(): () => number {
        const query = jest.spyOn(WriteScope.prototype, 'query');
        return () =>
          query.mock.calls.filter(([sql]) => /FROM run_evaluations e\b/.test(sql)).length;
      }

      const changes = async (url: string, auth = bearer()) =>
        (
          (await t.http.get(`${url}/history`).set(auth)).body as {
            old_value: number | null;
            new_value: number;
            new_label_version: number;
          }[]
        ).map((h) => [h.old_value, h.new_value, h.new_label_version]);

      it('updates in one statement, reading nothing first, If-Match honoured', async () => {
        const { url } = await updated();
        const current = await t.http.get(url).set(bearer()).expect(200);
        const reads = evaluationReads();
        const stale = await t.http
          .put(url)
          .set(bearer())
          .set('If-Match', '"not-the-etag"')
          .send({ value: 3 });
        expect([stale.status, stale.headers.etag]).toEqual([412, current.headers.etag]);
        const res = await t.http
          .put(url)
          .set(bearer())
          .set('If-Match', String(current.headers.etag))
          .send({ value: 3 });
        expect([res.status, res.body.value]).toEqual([200, 3]);
        expect(reads()).toBe(0);
        expect(await changes(url)).toEqual([
          [null, 1, 1],
          [1, 2, 1],
          [2, 3, 1],
        ]);
      });

      it('makes the history and the event an update that reads first makes', async () => {
        const account = `acct-${randomUUID()}`;
        const auth = bearer(token({ account }));
        const { path: url } = await scoredRun(t.http, auth);
        const first = await t.http.put(url).set(auth).send({ value: 2 }).expect(200);
        const reads = evaluationReads();
        const second = await t.http.put(url).set(auth).send({ value: 0.3 }).expect(200);
        expect(reads()).toBe(0);
        let updates: object[] = [];
        // Events get their positions a moment after commit.
        await until(async () => {
          const events = (await t.http.get('/v1/events').set(auth).expect(200)).body as {
            type: string;
            data: object;
          }[];
          updates = events.filter((x) => x.type === 'evaluation.updated').map((x) => x.data);
          return updates.length === 2;
        });
        expect(updates).toEqual([
          { ...first.body, label_version: 1, old_value: 1, old_label_version: 1 },
          { ...second.body, label_version: 1, old_value: 2, old_label_version: 1 },
        ]);
        expect(Object.keys(updates[1])).toEqual(Object.keys(updates[0]));
        expect(await changes(url, auth)).toEqual([
          [null, 1, 1],
          [1, 2, 1],
          [2, 0.3, 1],
        ]);
      });

      it('takes concurrent updates in turn, each recording the value it replaced', async () => {
        const { url } = await updated();
        const values = Array.from({ length: 12 }, (_, i) => (i + 21) / 10);
        const answers = await Promise.all(
          values.map((value) => t.http.put(url).set(bearer()).send({ value })),
        );
        expect(answers.map((a) => a.status)).toEqual(values.map(() => 200));
        const history = await changes(url);
        // One unbroken chain: each update replaced the value the one before it stored.
        for (let i = 1; i < history.length; i++) expect(history[i][0]).toBe(history[i - 1][1]);
        expect(
          history
            .slice(2)
            .map((h) => h[1])
            .sort(),
        ).toEqual(values);
        const now = await t.http.get(url).set(bearer());
        expect(now.body.value).toBe(history.at(-1)![1]);
      });

      it('loses no update made elsewhere since: the value it replaces is the one stored', async () => {
        const { url, id } = await updated();
        // As another instance would: the database changes, this instance hears nothing.
        await t.dataSource.query('UPDATE run_evaluations SET value = 7 WHERE id = $1', [id]);
        const res = await t.http.put(url).set(bearer()).send({ value: 3 });
        expect([res.status, res.body.value]).toEqual([200, 3]);
        // The kept version failed, and the write ran again on the row as it is.
        expect((await changes(url)).at(-1)).toEqual([7, 3, 1]);
      });

      it('answers 404 for an evaluation deleted elsewhere since', async () => {
        const { url, id } = await updated();
        await t.dataSource.query('DELETE FROM run_evaluations WHERE id = $1', [id]);
        const res = await t.http.put(url).set(bearer()).send({ value: 3 });
        expect([res.status, res.body.code]).toEqual([404, 'not_found']);
      });

      it('checks the value against the label as it is now, and records its new version', async () => {
        const { label, url } = await updated({
          value_type: 'continuous',
          min_value: 0,
          max_value: 10,
        });
        const narrowed = await t.http
          .patch(`/v1/evaluation-label/${label.id}`)
          .set(bearer())
          .send({ max_value: 5 })
          .expect(200);
        expect(narrowed.body.version).toBe(2);
        const refused = await t.http.put(url).set(bearer()).send({ value: 8 });
        expect([refused.status, refused.body.code]).toEqual([422, 'value_out_of_range']);
        await t.http.put(url).set(bearer()).send({ value: 4 }).expect(200);
        expect((await changes(url)).at(-1)).toEqual([2, 4, 2]);
      });
    });
  });
});
