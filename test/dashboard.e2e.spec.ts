/// <reference lib="dom" />
// Functions passed to page.evaluate run in the browser, with its globals.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AxeBuilder } from '@axe-core/playwright';
import { createLogger } from '../src/common/pino-logger.js';
import {
  bearer,
  DATABASES,
  describeOnServers,
  startApp,
  type TestApp,
  TEST_SECRET,
  testSettings,
  token,
} from './support/app.js';
import { CuttableProxy } from './support/cuttable-proxy.js';
import { ensureBuilt, freePort, type ServerProcess, startServer } from './support/server.js';
import { useChromium } from './support/browser.js';
import { expectClose } from './support/close-to.js';
import { until } from './support/until.js';
import {
  asShown,
  fromShown,
  expectClean,
  openDashboard,
  readTable,
  screenshot,
  visit,
  type Watched,
} from './support/dashboard.js';
import {
  type Created,
  createEvaluation,
  createEvaluator,
  createLabel,
  createRun,
} from './support/factories.js';

// Every user-controlled string holds markup that would set window.__pwned if it ever ran.
const IMG = '<img src=x onerror="window.__pwned=1">';
const SCRIPT = '<script>window.__pwned=2</script>';
const JS_URL = 'javascript:window.__pwned=3';
const HOSTILE = `${IMG} ${SCRIPT} ${JS_URL}`;

const DAY = 86_400_000;

describe.each(DATABASES)('dashboard on $name', (db) => {
  let t: TestApp;
  let baseUrl: string;
  const logLines: string[] = [];
  const browser = useChromium();
  const person = token({ sub: `alice ${IMG}` });
  const auth = bearer(person);
  let judge: Created;
  const labels: Record<'binary' | 'continuous' | 'ordinal' | 'categorical', Created> = {} as never;
  const runs: Created[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    t = await startApp(db, {}, {}, createLogger(testSettings(db, { LOG_LEVEL: 'debug' }), sink));
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');

    judge = await createEvaluator(t.http, { name: `judge ${HOSTILE}`, description: HOSTILE }, auth);
    const asJudge = bearer(token({ sub: 'judge-bot', evaluator: judge.id }));
    labels.binary = await createLabel(
      t.http,
      { name: `correct ${IMG}`, description: SCRIPT, value_type: 'binary' },
      auth,
    );
    labels.continuous = await createLabel(
      t.http,
      { name: `helpfulness ${SCRIPT}`, value_type: 'continuous', min_value: 0, max_value: 10 },
      auth,
    );
    labels.ordinal = await createLabel(
      t.http,
      {
        name: `quality ${JS_URL}`,
        value_type: 'ordinal',
        categories: ['bad', IMG, 'good', 'great'],
      },
      auth,
    );
    labels.categorical = await createLabel(
      t.http,
      { name: 'topic', value_type: 'categorical', categories: ['billing', SCRIPT, JS_URL] },
      auth,
    );
    for (let i = 0; i < 12; i++) {
      const run = await createRun(
        t.http,
        {
          name: `run ${i} ${IMG}`,
          workflow: i % 2 ? `wf-b ${SCRIPT}` : 'wf-a',
          outputs: { answer: { text: HOSTILE, items: [i, { k: JS_URL }] }, [IMG]: SCRIPT },
          metadata: { case_id: `case-${i % 6}`, note: HOSTILE },
          inputs: { question: IMG },
        },
        auth,
      );
      runs.push(run);
      const rate = (by: typeof auth, labelId: string, value: number, target = {}) =>
        createEvaluation(t.http, run.id, { evaluation_label_id: labelId, value, ...target }, by);
      await rate(auth, labels.binary.id, i % 3 ? 1 : 0);
      await rate(asJudge, labels.binary.id, i % 4 ? 1 : 0);
      await rate(auth, labels.continuous.id, ((i * 7) % 10) + 0.5, {
        output_name: 'answer',
        field_path: '$.text',
      });
      await rate(asJudge, labels.continuous.id, (i * 3) % 10, {
        output_name: 'answer',
        field_path: '$.text',
      });
      await rate(auth, labels.ordinal.id, i % 4, {
        output_name: 'answer',
        field_path: '$.items[1].k',
      });
      await rate(asJudge, labels.ordinal.id, (i + 1) % 4, {
        output_name: 'answer',
        field_path: '$.items[1].k',
      });
      await rate(auth, labels.categorical.id, i % 3, {
        field_path: `$['${IMG.replace(/'/g, "\\'")}']`,
      });
      await rate(asJudge, labels.categorical.id, (i + (i % 2)) % 3, {
        field_path: `$['${IMG.replace(/'/g, "\\'")}']`,
      });
    }
    // Spread the runs' evaluations over the last four days, so that trends have four buckets.
    const now = Date.now();
    for (const [i, run] of runs.entries()) {
      const at = new Date(now - (i % 4) * DAY).toISOString();
      await t.dataSource.query(
        `UPDATE run_evaluations SET created_at = $2, updated_at = $2 WHERE run_id = $1`,
        [run.id, at],
      );
    }
  });
  afterAll(() => t?.close());

  const api = async (path: string, query: Record<string, string> = {}) => {
    const res = await t.http.get(path).query(query).set(auth);
    expect(res.status).toBe(200);
    return res.body;
  };
  const headlineOf: Record<string, string> = {
    binary: 'rate',
    continuous: 'mean',
    ordinal: 'median',
    categorical: 'mode',
  };

  let w: Watched;
  const pages: Watched[] = [];
  /** The one signed-in page the specs share, unless one needs its own (a size, a sign-in). */
  let shared: Watched | undefined;
  const open = async (
    viewport?: { width: number; height: number },
    expected?: number[],
    viaForm = false,
  ) => {
    if (!viewport && !expected && !viaForm && shared) {
      // A spec that failed may have left its problems: they are its own, not the next one's.
      shared.problems.length = 0;
      return (w = shared);
    }
    w = await openDashboard(browser(), baseUrl, person, viewport, expected, viaForm);
    pages.push(w);
    if (!viewport && !expected && !viaForm) shared = w;
    return w;
  };
  afterAll(async () => {
    for (const p of pages)
      await p.page
        .context()
        .close()
        .catch(() => undefined);
  });

  describe.each(['binary', 'continuous', 'ordinal', 'categorical'])(
    'the label view of a %s label',
    (type) => {
      it('shows the figures, distribution and trend the API answers', async () => {
        const label = labels[type as keyof typeof labels];
        await open();
        await visit(w, baseUrl, `label/${label.id}`);
        const all = (await api(`/v1/evaluation-label/${label.id}/stats`)).groups[0];
        const headline = await w.page
          .locator('[data-headline] data[data-field]')
          .evaluateAll((els) =>
            Object.fromEntries(
              els.map((e) => [(e as HTMLElement).dataset.field, (e as HTMLDataElement).value]),
            ),
          );
        expect(headline.n).toBe(String(all.n));
        if (type === 'binary') expect(headline.rate).toBe(asShown(all.rate));
        if (type === 'continuous') expect(headline.mean).toBe(asShown(all.mean));
        if (type === 'binary' || type === 'continuous')
          expect(headline.ci95).toBe(asShown(all.ci95));
        if (type === 'ordinal')
          await expect(
            w.page.locator('[data-headline] [data-field="median"]').textContent(),
          ).resolves.toBe(all.median);

        const distribution = await readTable(w.page, 'distribution');
        if (type === 'ordinal' || type === 'categorical') {
          const body = await api(`/v1/evaluation-label/${label.id}`);
          expect(distribution.map((r) => r.cells.count)).toEqual(
            body.categories.map((c: string) => String(all.counts[c])),
          );
          if (type === 'categorical')
            expect(distribution.map((r) => r.cells.share)).toEqual(
              body.categories.map((c: string) => asShown(all.shares[c])),
            );
        } else if (type === 'continuous') {
          expect(distribution.map((r) => r.cells.n)).toEqual(
            all.histogram.bins.map((b: { n: number }) => String(b.n)),
          );
          const summary = await readTable(w.page, 'summary');
          expect(Object.fromEntries(summary.map((r) => [r.row, r.cells.value]))).toEqual(
            Object.fromEntries(
              ['mean', 'stddev', 'min', 'p50', 'p90', 'max'].map((k) => [k, asShown(all[k])]),
            ),
          );
        } else {
          expect(distribution[0].cells).toMatchObject({
            n: String(all.n),
            rate: asShown(all.rate),
            ci95: asShown(all.ci95),
          });
        }

        const byDay = (await api(`/v1/evaluation-label/${label.id}/stats`, { interval: 'day' }))
          .groups;
        expect(byDay.length).toBe(4);
        const trend = await readTable(w.page, 'trend');
        expect(trend.map((r) => r.cells.n)).toEqual(byDay.map((g: { n: number }) => String(g.n)));
        const field = headlineOf[type];
        if (field === 'rate' || field === 'mean') {
          // Close, not equal: the page's request and this one each sum the floats in the
          // order their plan reads the rows, and the last digits may differ.
          expectClose(
            trend.map((r) => fromShown(r.cells[field])),
            byDay.map((g: Record<string, unknown>) => g[field]),
          );
          expectClose(
            trend.map((r) => fromShown(r.cells.ci95)),
            byDay.map((g: { ci95: unknown }) => g.ci95),
          );
        }
        if (field === 'median')
          expect(trend.map((r) => r.cells.mean_index)).toEqual(
            byDay.map((g: { mean_index: number }) => asShown(g.mean_index)),
          );
        const volume = await readTable(w.page, 'volume');
        expect(volume.map((r) => r.cells.n)).toEqual(byDay.map((g: { n: number }) => String(g.n)));
        await screenshot(w.page, `${db.name}-label-${type}`);
        await expectClean(w);
      });

      it('splits by workflow, as the API groups', async () => {
        const label = labels[type as keyof typeof labels];
        await open();
        await visit(w, baseUrl, `label/${label.id}?split=workflow`);
        const groups = (
          await api(`/v1/evaluation-label/${label.id}/stats`, { group_by: 'workflow' })
        ).groups;
        const split = await readTable(w.page, 'split');
        expect(split.map((r) => r.row)).toEqual(
          groups.map((g: { key: { workflow: string } }) => g.key.workflow),
        );
        expect(split.map((r) => r.cells.n)).toEqual(groups.map((g: { n: number }) => String(g.n)));
        await expectClean(w);
      });
    },
  );

  it('shows every label on the overview with the figures, trend and direction the API answers', async () => {
    await open();
    await visit(w, baseUrl, '');
    const { items } = await api('/v1/evaluation-labels/stats');
    expect(items).toHaveLength(4);
    for (const o of items) {
      const card = w.page.locator(`article[data-label="${o.label.id}"]`);
      const shown = await card
        .locator('.figures data[data-field]')
        .evaluateAll((els) =>
          Object.fromEntries(
            els.map((e) => [(e as HTMLElement).dataset.field, (e as HTMLDataElement).value]),
          ),
        );
      const field = headlineOf[o.label.value_type];
      expect(shown.n).toBe(String(o.figures.n));
      if (field === 'rate' || field === 'mean') {
        expect(shown[field]).toBe(asShown(o.headline[field]));
        expect(shown.ci95).toBe(asShown(o.headline.ci95));
      } else {
        await expect(card.locator(`.figures [data-field="${field}"]`).textContent()).resolves.toBe(
          o.headline[field],
        );
      }
      await expect(card.locator('[data-verdict]').getAttribute('data-verdict')).resolves.toBe(
        o.direction.verdict,
      );
      const trend = await readTable(w.page, `trend-${o.label.id}`);
      expect(trend.map((r) => r.cells.n)).toEqual(o.trend.map((b: { n: number }) => String(b.n)));
      if (field === 'rate' || field === 'mean')
        expect(trend.map((r) => r.cells[field])).toEqual(
          o.trend.map((b: Record<string, unknown>) => asShown(b[field])),
        );
    }
    await screenshot(w.page, `${db.name}-overview`);
    await expectClean(w);
  });

  it('shows each evaluator: volume, the share people changed, and the lag, as the API does', async () => {
    // A person corrects one of the judge's evaluations: the share changed is no longer 0.
    const [theirs] = (await api(`/v1/run/${runs[0].id}/evaluations`)).filter(
      (e: { created_by_evaluator_id: string | null }) => e.created_by_evaluator_id === judge.id,
    );
    const put = await t.http
      .put(`/v1/run/${runs[0].id}/evaluation/${theirs.id}`)
      .set(auth)
      .send({ value: theirs.value === 1 ? 0 : 1 });
    expect(put.status).toBe(200);
    await open();
    await visit(w, baseUrl, 'evaluators');
    const { items } = await api('/v1/evaluators/stats');
    const mine = items.find((i: { evaluator: { id: string } }) => i.evaluator.id === judge.id);
    expect(mine.changed.changed).toBe(1);
    const card = w.page.locator(`article[data-evaluator="${judge.id}"]`);
    const shown = await card
      .locator('.facts data[data-field]')
      .evaluateAll((els) =>
        Object.fromEntries(
          els.map((e) => [(e as HTMLElement).dataset.field, (e as HTMLDataElement).value]),
        ),
      );
    expect(shown).toEqual({
      n: String(mine.n),
      changed: String(mine.changed.changed),
      changed_n: String(mine.changed.n),
      share: asShown(mine.changed.share),
      p50: asShown(mine.lag_seconds.p50),
      p90: asShown(mine.lag_seconds.p90),
      mean: asShown(mine.lag_seconds.mean),
      max: asShown(mine.lag_seconds.max),
    });
    const volume = await readTable(w.page, `volume-${judge.id}`);
    expect(volume.map((r) => r.cells.n)).toEqual(
      mine.volume.map((v: { n: number }) => String(v.n)),
    );
    await screenshot(w.page, `${db.name}-evaluators`);
    await expectClean(w);
  });

  it('compares a baseline with a candidate, paired by case, as the API does', async () => {
    const query = {
      'baseline.workflow': 'wf-a',
      'candidate.workflow': `wf-b ${SCRIPT}`,
      pair_by: 'metadata.case_id',
    };
    await open();
    await visit(w, baseUrl, `compare?${new URLSearchParams(query).toString()}`);
    const rows = await readTable(w.page, 'forest');
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      const c = await api(`/v1/evaluation-label/${row.row}/compare`, query);
      const d = c.paired_test ?? c.difference;
      expect(row.cells).toMatchObject({
        baseline_n: String(c.baseline.n),
        candidate_n: String(c.candidate.n),
        estimate: asShown(d.estimate),
        ci95: asShown(d.ci95),
        p_value: asShown((c.paired_test ?? c.test).p_value),
        improved: asShown(c.pairs.improved),
        regressed: asShown(c.pairs.regressed),
        changed: asShown(c.pairs.changed),
        unchanged: asShown(c.pairs.unchanged),
      });
      await expect(
        w.page.locator(`[data-label="${row.row}"] [data-verdict]`).getAttribute('data-verdict'),
      ).resolves.toBe(c.verdict);
      // Each regression links to both of its runs.
      for (const r of c.regressions) {
        await expect(
          w.page.locator(`a[href="/dashboard/run/${r.candidate_run_id}"]`).count(),
        ).resolves.toBeGreaterThan(0);
      }
    }
    await screenshot(w.page, `${db.name}-compare`);
    await expectClean(w);
  });

  it.each(['binary', 'continuous', 'ordinal', 'categorical'] as const)(
    'shows the agreement of people and evaluators on a %s label as the API does',
    async (type) => {
      const label = labels[type];
      await open();
      await visit(w, baseUrl, `agreement?label=${label.id}`);
      const a = await api(`/v1/evaluation-label/${label.id}/agreement`, {
        'a.source': 'human',
        'b.source': 'evaluator',
      });
      expect(a.n_pairs).toBe(12);
      const figures = Object.fromEntries(
        (await readTable(w.page, 'agreement')).map((r) => [r.row, r.cells]),
      );
      expect(figures.pairs.value).toBe('12');
      if (type === 'continuous') {
        expect(figures['Pearson r']).toEqual({
          value: asShown(a.r.estimate),
          ci95: asShown(a.r.ci95),
        });
        expect(figures.MAE.value).toBe(asShown(a.mae));
        expect(figures.RMSE.value).toBe(asShown(a.rmse));
        expect(figures['limits of agreement'].value).toBe(asShown(a.limits_of_agreement));
      } else {
        const kappa = Object.entries(figures).find(([k]) => k.startsWith('kappa'))![1];
        expect(kappa).toEqual({ value: asShown(a.kappa.estimate), ci95: asShown(a.kappa.ci95) });
        expect(figures['percent agreement'].value).toBe(asShown(a.percent_agreement));
        const matrix = await readTable(w.page, 'confusion');
        expect(matrix.map((r) => Object.values(r.cells))).toEqual(
          a.confusion.counts.map((row: number[]) => row.map(String)),
        );
      }
      if (type === 'ordinal') expect(figures['Spearman rho'].value).toBe(asShown(a.rho));
      await screenshot(w.page, `${db.name}-agreement-${type}`);
      await expectClean(w);
    },
  );

  it('shows a run: outputs as JSON, each evaluation beside its target, history on demand', async () => {
    const run = runs[3];
    await open();
    await visit(w, baseUrl, `run/${run.id}`, '[data-output="answer"]');
    const evaluations = await api(`/v1/run/${run.id}/evaluations`);
    await expect(w.page.locator('[data-evaluation]').count()).resolves.toBe(evaluations.length);
    // The output's text is shown as text: the markup is visible, not made into elements.
    const shown = await w.page.locator('[data-output="answer"] pre').textContent();
    expect(shown).toContain('<img src=x onerror=');
    expect(shown).toContain(SCRIPT);
    // $.text and $.items[1].k of "answer" are highlighted, and the whole-run key.
    await expect(w.page.locator('[data-output="answer"] mark').count()).resolves.toBe(2);
    const marked = await w.page
      .locator('mark')
      .evaluateAll((m) => m.map((e) => (e as HTMLElement).dataset.path));
    expect(marked).toContain(JSON.stringify([IMG]));
    const one = evaluations.find((e: { output_name: string | null }) => e.output_name === 'answer');
    const history = await api(`/v1/run/${run.id}/evaluation/${one.id}/history`);
    await w.page
      .locator(`[data-evaluation="${one.id}"]`)
      .getByRole('button', { name: 'Show history' })
      .click();
    await w.page.locator(`table[data-table="history-${one.id}"]`).waitFor({ state: 'attached' });
    expect(await readTable(w.page, `history-${one.id}`)).toHaveLength(history.length);
    await screenshot(w.page, `${db.name}-run`);
    await expectClean(w);
  });

  it('keeps filters in the URL: a reload shows the same view, Back the previous one', async () => {
    const label = labels.continuous;
    await open();
    await visit(w, baseUrl, `label/${label.id}`);
    const n = () => w.page.locator('[data-headline] data[data-field="n"]').getAttribute('value');
    const all = (await api(`/v1/evaluation-label/${label.id}/stats`)).groups[0].n;
    const onlyA = (await api(`/v1/evaluation-label/${label.id}/stats`, { workflow: 'wf-a' }))
      .groups[0].n;
    expect(onlyA).toBeLessThan(all);
    await expect(n()).resolves.toBe(String(all));

    await w.page.getByLabel('Workflow').fill('wf-a');
    await w.page.getByLabel('Workflow').press('Enter');
    await w.page.waitForURL(/workflow=wf-a/);
    await until(async () => (await n()) === String(onlyA), 30_000);

    await w.page.reload();
    await until(async () => (await n()) === String(onlyA), 30_000);
    await expect(w.page.getByLabel('Workflow').inputValue()).resolves.toBe('wf-a');

    await w.page.goBack();
    await until(
      async () => !w.page.url().includes('workflow=') && (await n()) === String(all),
      30_000,
    );
    await expectClean(w);
  });

  // How soon (2 s is the target) is measured by the dashboard bench, on a machine at rest.
  it('signs in through the form, then shows a new evaluation as it arrives, without a reload', async () => {
    const label = labels.binary;
    await open(undefined, undefined, true);
    await visit(w, baseUrl, `label/${label.id}`);
    await w.page.locator('[data-live="live"]').waitFor();
    const n = () => w.page.locator('[data-headline] data[data-field="n"]').getAttribute('value');
    const before = Number(await n());
    await w.page.evaluate(() => ((window as { __same?: boolean }).__same = true));
    await createEvaluation(t.http, runs[0].id, { evaluation_label_id: label.id, value: 1 }, auth);
    await until(async () => (await n()) === String(before + 1), 30_000);
    // The same document: nothing was reloaded.
    await expect(w.page.evaluate(() => (window as { __same?: boolean }).__same)).resolves.toBe(
      true,
    );
    await expectClean(w);
  });

  it('never puts the token in a URL, localStorage or a log line, and forbids inline script', async () => {
    const res = await fetch(`${baseUrl}/dashboard/`);
    const csp = res.headers.get('content-security-policy')!;
    const scriptSrc = csp
      .split(';')
      .map((d) => d.trim())
      .find((d) => d.startsWith('script-src'))!;
    expect(scriptSrc).toBe("script-src 'self'");
    expect(csp).toContain("default-src 'none'");

    const visited = pages.length ? pages : [await open()];
    for (const p of visited) {
      expect(p.urls.filter((u) => u.includes(person))).toEqual([]);
      if (!p.page.isClosed())
        await expect(p.page.evaluate(() => localStorage.length)).resolves.toBe(0);
    }
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((l) => l.includes(person) || l.includes(person.split('.')[2]))).toEqual(
      [],
    );
  });

  it('has no serious accessibility violation, works by keyboard and at 390×844 without sideways scroll', async () => {
    const views = [
      '',
      'evaluators',
      `label/${labels.binary.id}?split=workflow`,
      `label/${labels.continuous.id}`,
      `label/${labels.ordinal.id}`,
      `label/${labels.categorical.id}?split=source`,
      `compare?baseline.workflow=wf-a&pair_by=metadata.case_id`,
      `agreement?label=${labels.ordinal.id}`,
      `agreement?label=${labels.continuous.id}`,
      `run/${runs[1].id}`,
    ];
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      await open(viewport);
      for (const view of views) {
        await visit(w, baseUrl, view, view.startsWith('run/') ? '[data-output]' : undefined);
        const results = await new AxeBuilder({ page: w.page }).analyze();
        const serious = results.violations.filter(
          (v) => v.impact === 'serious' || v.impact === 'critical',
        );
        expect(serious.map((v) => `${view}: ${v.id} ${v.help} (${v.nodes.length})`)).toEqual([]);
        const width = await w.page.evaluate(() => [
          document.documentElement.scrollWidth,
          window.innerWidth,
        ]);
        expect({ view, scrollWidth: width[0] }).toEqual({ view, scrollWidth: width[1] });
        if (viewport.width === 390)
          await screenshot(w.page, `${db.name}-phone-${view.split(/[/?]/)[0]}`);
      }
      await expectClean(w);
    }
    // Keyboard alone: Tab reaches every link, button, field and table toggle of a view.
    await open();
    await visit(w, baseUrl, `label/${labels.ordinal.id}?split=workflow`);
    const controls = await w.page
      .locator('a[href], button, input, select, textarea, summary')
      .count();
    const reached = new Set<string>();
    for (let i = 0; i < controls + 15; i++) {
      await w.page.keyboard.press('Tab');
      reached.add(
        await w.page.evaluate(() => {
          const el = document.activeElement!;
          return `${el.tagName}#${[...document.querySelectorAll('a[href], button, input, select, textarea, summary')].indexOf(el)}`;
        }),
      );
    }
    const indexes = new Set([...reached].map((r) => Number(r.split('#')[1])));
    const missed = await w.page
      .locator('a[href], button, input, select, textarea, summary')
      .evaluateAll(
        (els, got) => els.filter((_, i) => !got.includes(i)).map((e) => e.outerHTML),
        [...indexes],
      );
    expect(missed).toEqual([]);
    await expectClean(w);
  });

  it('says what to do when the token is wrong or expired, or the label was deleted', async () => {
    const wrong = await openDashboard(
      browser(),
      baseUrl,
      token({ secret: 'another-secret-that-is-long-enough-for-hs256' }),
      undefined,
      [401],
      true,
    );
    pages.push(wrong);
    await expect(wrong.page.locator('.sign-in [role="alert"]').textContent()).resolves.toMatch(
      /refused the token.*Sign in again/,
    );
    await expect(wrong.page.getByLabel('Bearer token').isVisible()).resolves.toBe(true);
    await expectClean(wrong);

    const expired = await openDashboard(
      browser(),
      baseUrl,
      token({ expiresIn: -10 }),
      undefined,
      [401],
      true,
    );
    pages.push(expired);
    await expect(expired.page.locator('.sign-in [role="alert"]').textContent()).resolves.toMatch(
      /expired|refused/,
    );
    await expectClean(expired);

    const doomed = await createLabel(t.http, { name: 'to be deleted' }, auth);
    await open(undefined, [404]);
    expect((await t.http.delete(`/v1/evaluation-label/${doomed.id}`).set(auth)).status).toBe(204);
    await w.page.goto(`${baseUrl}/dashboard/label/${doomed.id}`);
    await expect(w.page.locator('[role="alert"]').textContent()).resolves.toMatch(
      /no longer exists/,
    );
    await expect(
      w.page.getByRole('link', { name: 'Back to the overview' }).isVisible(),
    ).resolves.toBe(true);
    await screenshot(w.page, `${db.name}-deleted-label`);
    await expectClean(w);
  });
});

/** The built server, stopped and started again on the same data and port. */
describe.each(DATABASES)('an open dashboard across a server restart, on $name', (db) => {
  const browser = useChromium();
  const dataDir = mkdtempSync(join(tmpdir(), 'assay-dashboard-'));
  const env = {
    JWT_SECRET: TEST_SECRET,
    NODE_ENV: 'test',
    ...(db.env.DATABASE_URL ? { DATABASE_URL: db.env.DATABASE_URL } : { DATA_DIR: dataDir }),
  };
  let server: ServerProcess | undefined;
  beforeAll(() => ensureBuilt());
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reconnects by itself and shows what was written after the restart', async () => {
    const port = await freePort();
    server = await startServer(env, { port });
    const auth = { ...bearer(), 'content-type': 'application/json' };
    const post = async (path: string, body: object) => {
      const res = await fetch(`${server!.url}${path}`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as { id: string };
    };
    const label = await post('/v1/evaluation-labels', {
      name: `restarts ${randomUUID()}`,
      value_type: 'binary',
    });
    const run = await post('/v1/runs', {});
    const w = await openDashboard(browser(), server.url, token());
    await visit(w, server.url, `label/${label.id}`);
    const n = () => w.page.locator('[data-headline] data[data-field="n"]').getAttribute('value');
    expect(await n()).toBe('0');

    await server.stop();
    await w.page.locator('[data-live="reconnecting"]').waitFor();
    server = await startServer(env, { port });
    await w.page.locator('[data-live="live"]').waitFor({ timeout: 60_000 });
    await post(`/v1/run/${run.id}/evaluations`, { evaluation_label_id: label.id, value: 1 });
    await until(async () => (await n()) === '1', 30_000);

    // While the server was away, the page's attempts to reconnect were refused: that is all.
    const unexpected = w.problems.filter(
      (p) =>
        !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_INCOMPLETE_CHUNKED_ENCODING/.test(
          p,
        ),
    );
    expect(unexpected).toEqual([]);
    await expect(w.page.locator('[role="alert"]').count()).resolves.toBe(0);
    await w.page.context().close();
  });
});

describeOnServers('the dashboard while the database is unreachable, on $name', (db) => {
  const browser = useChromium();
  let t: TestApp;
  let proxy: CuttableProxy;
  beforeAll(async () => {
    const target = new URL(db.env.DATABASE_URL ?? '');
    proxy = new CuttableProxy(target);
    await proxy.open();
    t = await startApp(db, { DATABASE_URL: proxy.url });
    await t.app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await t.close();
    await proxy.cut();
  });

  it('says the database is unavailable, then shows the view once it is back', async () => {
    const baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    const label = await createLabel(t.http, { name: 'through an outage', value_type: 'binary' });
    const w = await openDashboard(browser(), baseUrl, token(), undefined, [503]);
    await visit(w, baseUrl, `label/${label.id}`);

    await proxy.cut();
    await w.page.reload();
    const alert = w.page.locator('[role="alert"]');
    await alert.waitFor({ timeout: 60_000 });
    await expect(alert.textContent()).resolves.toMatch(/cannot reach its database.*tries again/);
    await screenshot(w.page, `${db.name}-database-down`);

    await proxy.open();
    await w.page.locator('[data-headline]').waitFor({ timeout: 60_000 });
    await expect(alert.count()).resolves.toBe(0);
    expect(
      w.problems.filter((p) => !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_ABORTED/.test(p)),
    ).toEqual([]);
    await w.page.context().close();
  });
});
