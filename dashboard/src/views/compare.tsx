import { api, type Label, need, type Schemas } from '../api.js';
import { forest } from '../charts.js';
import { Chart, FigureTable, type TableSpec } from '../components/chart.js';
import { type Field, Filters, statsFilters } from '../components/filters.js';
import { Problem } from '../components/problem.js';
import { Verdict } from '../components/verdict.js';
import { HEADLINE_NAME, headline } from '../figures.js';
import { fmt } from '../format.js';
import { useLoad } from '../load.js';
import { href, type Route } from '../router.js';
import { allLabels, useEvaluators, useLabels } from './shared.js';

type Comparison = Schemas['Comparison'];

const SIDES = [
  ['baseline', 'Baseline'],
  ['candidate', 'Candidate'],
] as const;

const shown = (label: Label, f: Schemas['StatsFigures']) => {
  const h = headline(label, f);
  return typeof h.value === 'number' ? h.value : (h.value ?? null);
};

function Regressions({ c }: { c: Comparison }) {
  const rows = c.regressions ?? [];
  const spec: TableSpec = {
    columns: [
      { key: 'case', title: 'case' },
      { key: 'baseline', title: 'baseline' },
      { key: 'candidate', title: 'candidate' },
      { key: 'difference', title: 'difference' },
      { key: 'baseline_run', title: 'baseline run' },
      { key: 'candidate_run', title: 'candidate run' },
    ],
    rows: rows.map((r, i) => ({
      key: String(i),
      cells: {
        case: typeof r.case === 'string' ? r.case : JSON.stringify(r.case),
        baseline: r.baseline,
        candidate: r.candidate,
        difference: r.difference,
        baseline_run: { text: r.baseline_run_id, href: href('run', r.baseline_run_id) },
        candidate_run: { text: r.candidate_run_id, href: href('run', r.candidate_run_id) },
      },
    })),
  };
  return (
    <FigureTable
      name={`regressions-${c.label.id}`}
      caption={`${c.label.name}: the cases that dropped most`}
      spec={spec}
    />
  );
}

export function CompareView({ route }: { route: Route }) {
  const labels = useLabels();
  const evaluators = useEvaluators();
  const chosen = route.query.get('label') ?? '';
  const pairBy = route.query.get('pair_by') ?? '';
  const loaded = useLoad(async () => {
    const query = {
      ...statsFilters(route.query, 'baseline.'),
      ...statsFilters(route.query, 'candidate.'),
      ...(pairBy ? { pair_by: pairBy } : {}),
    };
    const targets = chosen ? [chosen] : (await allLabels()).map((l) => l.id);
    return Promise.all(
      targets.map((id) =>
        need(
          api.GET('/v1/evaluation-label/{id}/compare', {
            params: { path: { id }, query: query as never },
          }),
        ),
      ),
    );
  }, [route.query.toString()]);

  const sideFields = SIDES.flatMap(([side, name]): Field[] => [
    { name: `${side}.workflow`, title: `${name} workflow` },
    { name: `${side}.from`, title: `${name} from (UTC)`, kind: 'date' },
    { name: `${side}.to`, title: `${name} until, not including`, kind: 'date' },
    {
      name: `${side}.created_by_evaluator_id`,
      title: `${name} evaluator`,
      kind: 'select',
      options: [
        { value: '', text: 'any' },
        ...evaluators.map((e) => ({ value: e.id, text: e.name })),
      ],
    },
  ]);
  const fields: Field[] = [
    {
      name: 'label',
      title: 'Label',
      kind: 'select',
      options: [
        { value: '', text: 'every label' },
        ...labels.map((l) => ({ value: l.id, text: l.name })),
      ],
    },
    ...sideFields,
    { name: 'pair_by', title: 'Pair runs by', placeholder: 'inputs or metadata.<key>' },
  ];
  const comparisons = loaded.data ?? [];
  const table: TableSpec = {
    columns: [
      { key: 'label', title: 'label' },
      { key: 'figure', title: 'figure' },
      { key: 'baseline_n', title: 'baseline n' },
      { key: 'baseline', title: 'baseline' },
      { key: 'candidate_n', title: 'candidate n' },
      { key: 'candidate', title: 'candidate' },
      { key: 'estimate', title: 'difference' },
      { key: 'ci95', title: '95% CI' },
      { key: 'p_value', title: 'p-value' },
      ...(pairBy
        ? [
            { key: 'improved', title: 'improved' },
            { key: 'regressed', title: 'regressed' },
            { key: 'changed', title: 'changed (categorical)' },
            { key: 'unchanged', title: 'unchanged' },
          ]
        : []),
    ],
    rows: comparisons.map((c) => {
      const test = c.paired_test ?? c.test;
      return {
        key: c.label.id,
        cells: {
          label: { text: c.label.name, href: href('label', c.label.id) },
          figure: HEADLINE_NAME[c.label.value_type],
          baseline_n: c.baseline.n,
          baseline: shown(c.label, c.baseline),
          candidate_n: c.candidate.n,
          candidate: shown(c.label, c.candidate),
          estimate: (c.paired_test ?? c.difference)?.estimate ?? null,
          ci95: (c.paired_test ?? c.difference)?.ci95 ?? null,
          p_value: test?.p_value ?? null,
          improved: c.pairs?.improved,
          regressed: c.pairs?.regressed,
          changed: c.pairs?.changed,
          unchanged: c.pairs?.unchanged,
        },
      };
    }),
  };
  return (
    <section aria-labelledby="view-title">
      <h1 id="view-title">Compare</h1>
      <p class="lede">
        A baseline and a candidate, per label: both figures, the difference with its 95% interval,
        the test and its verdict (§11; paired with “pair runs by”).
      </p>
      <Filters route={route} fields={fields} legend="Baseline and candidate" />
      {loaded.problem && <Problem problem={loaded.problem} />}
      {loaded.data && (
        <div aria-busy={loaded.loading}>
          <Chart
            title="Difference, candidate − baseline, with its 95% interval"
            name="forest"
            table={table}
            draw={(w) =>
              forest(
                w,
                comparisons.map((c) => {
                  const d = c.paired_test ?? c.difference;
                  return {
                    name: c.label.name,
                    value: d?.estimate ?? null,
                    lo: d?.ci95?.[0],
                    hi: d?.ci95?.[1],
                  };
                }),
                'difference',
                true,
              )
            }
          />
          <ul class="verdicts">
            {comparisons.map((c) => (
              <li key={c.label.id} data-label={c.label.id}>
                <a href={href('label', c.label.id)}>{c.label.name}</a>:{' '}
                <Verdict verdict={c.verdict} />
                {(c.paired_test ?? c.test)?.p_value != null && (
                  <> (p = {fmt((c.paired_test ?? c.test)!.p_value)})</>
                )}
              </li>
            ))}
          </ul>
          {pairBy &&
            comparisons
              .filter((c) => (c.regressions ?? []).length)
              .map((c) => <Regressions key={c.label.id} c={c} />)}
        </div>
      )}
    </section>
  );
}
