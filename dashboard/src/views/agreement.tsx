import { api, need, type Schemas } from '../api.js';
import { forest, matrix } from '../charts.js';
import { Chart, FigureTable, type TableSpec } from '../components/chart.js';
import { type Field, Filters, SOURCES, statsFilters } from '../components/filters.js';
import { Problem } from '../components/problem.js';
import { useLoad } from '../load.js';
import { type Route } from '../router.js';
import { useEvaluators, useLabels } from './shared.js';

const GROUPS = [
  ['a', 'Group a', 'human'],
  ['b', 'Group b', 'evaluator'],
] as const;

/** Group a defaults to people and group b to evaluators: the usual question. */
function withDefaults(query: URLSearchParams): URLSearchParams {
  const q = new URLSearchParams(query);
  for (const [g, , source] of GROUPS) {
    const filtered = [...q.keys()].some((k) => k.startsWith(`${g}.`));
    if (!filtered) q.set(`${g}.source`, source);
  }
  return q;
}

function Figures({ a }: { a: Schemas['Agreement'] }) {
  const rows: [string, TableSpec['rows'][0]['cells'][string], (readonly number[] | null)?][] = [
    ['pairs', a.n_pairs],
    ['percent agreement', a.percent_agreement ?? null],
    [
      `kappa (${a.kappa?.weights ?? 'none'} weights)`,
      a.kappa?.estimate ?? null,
      a.kappa?.ci95 ?? null,
    ],
    ['Spearman rho', a.rho ?? null],
    ['Pearson r', a.r?.estimate ?? null, a.r?.ci95 ?? null],
    ['MAE', a.mae ?? null],
    ['RMSE', a.rmse ?? null],
    ['mean difference (b − a)', a.mean_difference ?? null],
    ['limits of agreement', a.limits_of_agreement ?? null],
  ];
  const continuous = a.label.value_type === 'continuous';
  const kept = rows.filter(([name]) =>
    continuous
      ? !/kappa|percent/.test(name)
      : !/Pearson|MAE|RMSE|difference|limits/.test(name) &&
        (name !== 'Spearman rho' || a.label.value_type === 'ordinal'),
  );
  return (
    <FigureTable
      name="agreement"
      caption="Agreement of group a and group b"
      spec={{
        columns: [
          { key: 'figure', title: 'figure' },
          { key: 'value', title: 'value' },
          { key: 'ci95', title: '95% CI' },
        ],
        rows: kept.map(([name, value, ci]) => ({
          key: name,
          cells: { figure: name, value, ci95: ci ?? null },
        })),
      }}
    />
  );
}

export function AgreementView({ route }: { route: Route }) {
  const labels = useLabels();
  const evaluators = useEvaluators();
  const id = route.query.get('label') || labels[0]?.id;
  const query = withDefaults(route.query);
  const loaded = useLoad(
    async () =>
      id
        ? need(
            api.GET('/v1/evaluation-label/{id}/agreement', {
              params: {
                path: { id },
                query: { ...statsFilters(query, 'a.'), ...statsFilters(query, 'b.') } as never,
              },
            }),
          )
        : undefined,
    [id, query.toString()],
  );
  const groupFields = GROUPS.flatMap(([g, name]): Field[] => [
    { name: `${g}.source`, title: `${name}: written by`, kind: 'select', options: SOURCES },
    { name: `${g}.created_by`, title: `${name}: person or subject` },
    {
      name: `${g}.created_by_evaluator_id`,
      title: `${name}: evaluator`,
      kind: 'select',
      options: [
        { value: '', text: 'any' },
        ...evaluators.map((e) => ({ value: e.id, text: e.name })),
      ],
    },
    { name: `${g}.workflow`, title: `${name}: workflow` },
  ]);
  const fields: Field[] = [
    {
      name: 'label',
      title: 'Label',
      kind: 'select',
      options: labels.map((l) => ({ value: l.id, text: l.name })),
    },
    ...groupFields,
  ];
  const a = loaded.data;
  const confusion = a?.confusion ?? { categories: [], counts: [] };
  const shownRoute = { ...route, query };
  return (
    <section aria-labelledby="view-title">
      <h1 id="view-title">Agreement{a ? `: ${a.label.name}` : ''}</h1>
      <p class="lede">
        Two raters of one label, pair by pair (the same target evaluated by both), as §15 defines
        it.
      </p>
      <Filters route={shownRoute} fields={fields} legend="Label and groups" />
      {!id && labels.length === 0 && <p>There are no labels yet.</p>}
      {loaded.problem && <Problem problem={loaded.problem} />}
      {a && (
        <div aria-busy={loaded.loading}>
          <Figures a={a} />
          {a.label.value_type === 'continuous' ? (
            <Chart
              title="Mean difference (b − a) with the limits of agreement"
              name="bland-altman"
              table={{
                columns: [
                  { key: 'figure', title: 'figure' },
                  { key: 'value', title: 'value' },
                ],
                rows: [
                  {
                    key: 'md',
                    cells: { figure: 'mean difference', value: a.mean_difference ?? null },
                  },
                  {
                    key: 'lo',
                    cells: { figure: 'lower limit', value: a.limits_of_agreement?.[0] ?? null },
                  },
                  {
                    key: 'hi',
                    cells: { figure: 'upper limit', value: a.limits_of_agreement?.[1] ?? null },
                  },
                ],
              }}
              draw={(w) =>
                forest(
                  w,
                  [
                    {
                      name: 'b − a',
                      value: a.mean_difference ?? null,
                      lo: a.limits_of_agreement?.[0],
                      hi: a.limits_of_agreement?.[1],
                    },
                  ],
                  'difference',
                  true,
                )
              }
            />
          ) : (
            <Chart
              title="Confusion matrix: rows are group a’s category, columns group b’s"
              name="confusion"
              table={{
                columns: [
                  { key: 'a', title: 'a \\ b' },
                  ...confusion.categories.map((c) => ({ key: `b:${c}`, title: c })),
                ],
                rows: confusion.categories.map((c, i) => ({
                  key: c,
                  cells: {
                    a: c,
                    ...Object.fromEntries(
                      confusion.categories.map((d, j) => [`b:${d}`, confusion.counts[i][j]]),
                    ),
                  },
                })),
              }}
              draw={(w) =>
                matrix(
                  w,
                  confusion.categories.flatMap((c, i) =>
                    confusion.categories.map((d, j) => ({
                      a: c,
                      b: d,
                      n: confusion.counts[i][j],
                    })),
                  ),
                  confusion.categories,
                )
              }
            />
          )}
          {(a.warnings ?? []).includes('mixed_label_versions') && (
            <p class="warning">These pairs mix label versions {a.label_versions.join(', ')}.</p>
          )}
        </div>
      )}
    </section>
  );
}
