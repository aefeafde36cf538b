import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { expectClose } from './support/close-to.js';
import { type Created, createEvaluation, createLabel, createRun } from './support/factories.js';
import { type LabelDef } from './support/labels.js';
import { expectValidationFailed } from './support/validation.js';

type Case = { key: string; baseline: number[]; candidate: number[] };

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/agreement/${name}`, import.meta.url), 'utf8'));
const DATASETS = fixture('datasets.json') as {
  paired: { name: string; label: LabelDef; cases: Case[] }[];
};
type Expected = {
  regressions: { case: { case: string } }[];
  [figure: string]: unknown;
};
const REFERENCE = fixture('reference.json') as { paired: Record<string, Expected> };

describe.each(DATABASES)('paired comparisons on $name', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(db);
  });
  afterAll(() => t.close());

  const compare = (labelId: string, query: Record<string, string>) =>
    t.http.get(`/v1/evaluation-label/${labelId}/compare`).query(query).set(bearer());

  /**
   * One run per case and group, its inputs (or its metadata) naming the case, with the
   * case's evaluations; and in each group one run that is no case, with an evaluation that
   * counts in the group's figures but in no pair.
   */
  async function record(labelId: string, cases: Case[], tag: string, by: 'inputs' | 'metadata') {
    const runs: Record<string, Record<string, string>> = { baseline: {}, candidate: {} };
    for (const group of ['baseline', 'candidate'] as const) {
      const workflow = `${group} ${tag}`;
      for (const c of cases) {
        if (c[group].length === 0) continue;
        const run = await createRun(t.http, { workflow, [by]: { case: c.key, n: 1 } });
        runs[group][c.key] = run.id;
        for (const value of c[group]) {
          await createEvaluation(t.http, run.id, { evaluation_label_id: labelId, value });
        }
      }
      const loose = await createRun(t.http, {
        workflow,
        ...(by === 'metadata' ? { metadata: { other: 'x' } } : {}),
      });
      const value = cases.find((c) => c[group].length)?.[group][0] ?? 0;
      await createEvaluation(t.http, loose.id, { evaluation_label_id: labelId, value });
    }
    return runs;
  }

  describe('paired figures match the reference on the fixture datasets', () => {
    it.each(DATASETS.paired.map((d, i) => [d.name, i % 2 ? 'metadata' : 'inputs', d] as const))(
      '%s, paired by %s',
      async (name, by, d) => {
        const label = await createLabel(t.http, d.label);
        const tag = randomUUID();
        const runs = await record(label.id, d.cases, tag, by);
        const pairBy = by === 'inputs' ? 'inputs' : 'metadata.case';
        const res = await compare(label.id, {
          'baseline.workflow': `baseline ${tag}`,
          'candidate.workflow': `candidate ${tag}`,
          pair_by: pairBy,
        });
        expect(res.status).toBe(200);
        const expected = REFERENCE.paired[name];
        // The case is the runs' whole inputs, or the metadata value alone.
        const regressions = expected.regressions.map((r) => ({
          ...r,
          case: by === 'inputs' ? { case: r.case.case, n: 1 } : r.case.case,
          baseline_run_id: runs.baseline[r.case.case],
          candidate_run_id: runs.candidate[r.case.case],
        }));
        expectClose(res.body, { ...expected, regressions, pair_by: pairBy });
        // The unpaired figures stay beside the paired ones: the loose runs count there.
        const inGroup = (g: 'baseline' | 'candidate') =>
          d.cases.reduce((n, c) => n + c[g].length, 0) + 1;
        expect([res.body.baseline.n, res.body.candidate.n]).toEqual([
          inGroup('baseline'),
          inGroup('candidate'),
        ]);
        expect(res.body).toHaveProperty('test');
        const keys = Object.keys(expected).concat('label', 'alpha', 'pair_by');
        const unpaired = ['baseline', 'candidate', 'difference', 'test'];
        expect(Object.keys(res.body).sort()).toEqual([...keys, ...unpaired].sort());
      },
    );
  });

  it('regressions_limit keeps the worst; higher_is_better turns drops around', async () => {
    const d = DATASETS.paired.find((p) => p.name === 'continuous with ties and zeros')!;
    const label = await createLabel(t.http, d.label);
    const tag = randomUUID();
    await record(label.id, d.cases, tag, 'inputs');
    const query = {
      'baseline.workflow': `baseline ${tag}`,
      'candidate.workflow': `candidate ${tag}`,
      pair_by: 'inputs',
    };
    const all = (await compare(label.id, query)).body;
    const one = (await compare(label.id, { ...query, regressions_limit: '1' })).body;
    expect(one.regressions).toEqual(all.regressions.slice(0, 1));
    expect(all.regressions.length).toBeGreaterThan(1);
    const patch = await t.http
      .patch(`/v1/evaluation-label/${label.id}`)
      .set(bearer())
      .send({ higher_is_better: false });
    expect(patch.status).toBe(200);
    const flipped = (await compare(label.id, query)).body;
    expect(flipped.pairs).toEqual({
      n: all.pairs.n,
      improved: all.pairs.regressed,
      regressed: all.pairs.improved,
      unchanged: all.pairs.unchanged,
    });
    expect(flipped.verdict).toBe('regressed');
    expect(flipped.regressions[0].difference).toBe(
      Math.max(...flipped.regressions.map((r: { difference: number }) => r.difference)),
    );
    expect(flipped.regressions.every((r: { difference: number }) => r.difference > 0)).toBe(true);
  });

  it('without pair_by the answer is what it was', async () => {
    const label = await createLabel(t.http, { value_type: 'binary' });
    const res = await compare(label.id, { 'baseline.workflow': 'x', 'candidate.workflow': 'y' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(
      ['alpha', 'baseline', 'candidate', 'difference', 'label', 'test', 'verdict'].sort(),
    );
  });

  describe('bad input gets the one error body', () => {
    let label: Created;
    beforeAll(async () => {
      label = await createLabel(t.http, { value_type: 'binary' });
    });

    it.each([
      ['an unknown pair_by', { pair_by: 'outputs' }, 'pair_by'],
      ['a metadata key that is empty', { pair_by: 'metadata.' }, 'pair_by'],
      ['metadata without a key', { pair_by: 'metadata' }, 'pair_by'],
      ['a metadata key too long', { pair_by: `metadata.${'k'.repeat(201)}` }, 'pair_by'],
      ['regressions_limit 0', { pair_by: 'inputs', regressions_limit: '0' }, 'regressions_limit'],
      [
        'regressions_limit above 500',
        { pair_by: 'inputs', regressions_limit: '501' },
        'regressions_limit',
      ],
      [
        'regressions_limit not a number',
        { pair_by: 'inputs', regressions_limit: '2.5' },
        'regressions_limit',
      ],
      ['regressions_limit without pair_by', { regressions_limit: '5' }, 'regressions_limit'],
      ['an unknown parameter', { pair_by: 'inputs', colour: 'red' }, 'colour'],
      [
        'a label version the label never had',
        { pair_by: 'inputs', 'candidate.label_version': '2' },
        'candidate.label_version',
      ],
    ])('%s is a 400', async (_why, query, field) => {
      const res = await compare(label.id, query);
      expectValidationFailed(res, field);
    });

    it('a metadata key of any text is a parameter, never SQL', async () => {
      const res = await compare(label.id, { pair_by: "metadata.'; DROP TABLE runs; --" });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        pairs: { n: 0 },
        paired_test: null,
        verdict: 'insufficient_data',
        regressions: [],
      });
    });

    it("another account's label is a 404", async () => {
      const res = await t.http
        .get(`/v1/evaluation-label/${label.id}/compare`)
        .query({ pair_by: 'inputs' })
        .set(bearer(token({ account: 'globex' })));
      expect([res.status, res.body.code]).toEqual([404, 'not_found']);
    });
  });
});
