import { api, type Figures, type Label, need, type StatsGroup } from '../api.js';
import {
  type Bar,
  bars,
  forest,
  histogram as bins,
  stackedShares,
  trend,
  volume,
} from '../charts.js';
import { Chart, FigureTable, type TableSpec } from '../components/chart.js';
import { type Field, Filters, INTERVALS, SOURCES, statsFilters } from '../components/filters.js';
import { Interval, Num } from '../components/num.js';
import { Problem } from '../components/problem.js';
import { HEADLINE_NAME, headline } from '../figures.js';
import { bucketName, fmt, when } from '../format.js';
import { useLoad } from '../load.js';
import { href, type Route } from '../router.js';
import { useEvaluators } from './shared.js';

const SPLITS = [
  { value: '', text: 'none' },
  { value: 'workflow', text: 'workflow' },
  { value: 'source', text: 'source' },
  { value: 'evaluator', text: 'evaluator' },
  { value: 'output_name', text: 'output name' },
  { value: 'label_version', text: 'label version' },
];

/** The figures of one group as table cells, by value type. */
export function figureCells(
  label: Label,
  f: Partial<Figures>,
): Record<string, TableSpec['rows'][0]['cells'][string]> {
  const h = headline(label, f);
  return { n: f.n ?? 0, [h.field]: h.value, ci95: h.ci95 ?? null };
}

export const figureColumns = (label: Label) => [
  { key: 'n', title: 'n' },
  { key: headline(label, {}).field, title: HEADLINE_NAME[label.value_type] },
  ...(label.value_type === 'binary' || label.value_type === 'continuous'
    ? [{ key: 'ci95', title: '95% CI' }]
    : []),
];

function Distribution({ label, f }: { label: Label; f: Figures }) {
  const counts = (f.counts ?? {}) as Record<string, number>;
  const shares = (f.shares ?? {}) as Record<string, number | null>;
  if (label.value_type === 'ordinal' || label.value_type === 'categorical') {
    const cats = label.categories ?? [];
    const data: Bar[] = cats.map((c) => ({
      name: c,
      value: counts[c] ?? 0,
      marked: label.value_type === 'ordinal' && c === f.median,
    }));
    const table: TableSpec = {
      columns: [
        { key: 'category', title: 'category' },
        { key: 'count', title: 'count' },
        ...(label.value_type === 'categorical' ? [{ key: 'share', title: 'share' }] : []),
      ],
      rows: cats.map((c) => ({
        key: c,
        cells: {
          category: c + (label.value_type === 'ordinal' && c === f.median ? ' (median)' : ''),
          count: counts[c] ?? 0,
          share: shares[c] ?? null,
        },
      })),
    };
    const title =
      label.value_type === 'ordinal'
        ? 'Distribution, in rank order, with the median marked'
        : 'Distribution by category';
    return (
      <Chart
        title={title}
        name="distribution"
        draw={(w) => bars(w, data, 'evaluations')}
        table={table}
      />
    );
  }
  if (label.value_type === 'binary') {
    const table: TableSpec = {
      columns: [
        { key: 'figure', title: 'figure' },
        { key: 'n', title: 'n' },
        { key: 'rate', title: 'rate' },
        { key: 'ci95', title: '95% CI' },
      ],
      rows: [
        {
          key: 'all',
          cells: { figure: 'rate of 1', n: f.n, rate: f.rate ?? null, ci95: f.ci95 ?? null },
        },
      ],
    };
    return (
      <Chart
        title="Rate of 1 with its 95% Wilson interval"
        name="distribution"
        table={table}
        draw={(w) =>
          forest(
            w,
            [{ name: 'rate', value: f.rate ?? null, lo: f.ci95?.[0], hi: f.ci95?.[1] }],
            'rate',
            false,
            [0, 1],
          )
        }
      />
    );
  }
  const histogram = f.histogram;
  const summary: TableSpec = {
    columns: [
      { key: 'figure', title: 'figure' },
      { key: 'value', title: 'value' },
    ],
    rows: (['mean', 'stddev', 'min', 'p50', 'p90', 'max'] as const).map((k) => ({
      key: k,
      cells: { figure: k, value: f[k] ?? null },
    })),
  };
  const range = `[${label.min_value}, ${label.max_value}]`;
  return (
    <>
      {histogram && (
        <Chart
          title={`Histogram over ${range}${histogram.outside ? `; ${histogram.outside} values of an earlier version lie outside it` : ''}`}
          name="distribution"
          table={{
            columns: [
              { key: 'bin', title: 'from – to' },
              { key: 'n', title: 'evaluations' },
            ],
            rows: histogram.bins.map((b, i) => ({
              key: String(i),
              cells: { bin: `${fmt(b.from)} – ${fmt(b.to)}`, n: b.n },
            })),
          }}
          draw={(w) =>
            bins(
              w,
              histogram.bins.map((b) => ({ x0: b.from, x1: b.to, n: b.n })),
              [label.min_value!, label.max_value!],
            )
          }
        />
      )}
      <Chart
        title="Mean with its 95% interval; the range and the median to p90"
        name="summary"
        table={summary}
        draw={(w) =>
          forest(
            w,
            [
              { name: 'mean (95% CI)', value: f.mean ?? null, lo: f.ci95?.[0], hi: f.ci95?.[1] },
              { name: 'min – max', value: f.p50 ?? null, lo: f.min, hi: f.max },
              { name: 'median – p90', value: f.p50 ?? null, lo: f.p50, hi: f.p90 },
            ],
            'value',
            false,
            [label.min_value!, label.max_value!],
          )
        }
      />
    </>
  );
}

function Trend({
  label,
  groups,
  interval,
}: {
  label: Label;
  groups: StatsGroup[];
  interval: string;
}) {
  const points = groups.map((g) => {
    const h = headline(label, g);
    const value = typeof h.value === 'number' ? h.value : (g.mean_index ?? null);
    return { at: new Date(g.bucket!), value, lo: h.ci95?.[0], hi: h.ci95?.[1], n: g.n, g };
  });
  const table: TableSpec = {
    columns: [
      { key: 'bucket', title: `${interval} (UTC)` },
      ...figureColumns(label),
      ...(label.value_type === 'ordinal' ? [{ key: 'mean_index', title: 'mean index' }] : []),
    ],
    rows: groups.map((g) => ({
      key: g.bucket!,
      cells: {
        bucket: bucketName(g.bucket, interval),
        ...figureCells(label, g),
        mean_index: g.mean_index ?? null,
      },
    })),
  };
  const cats = label.categories ?? [];
  const yName =
    label.value_type === 'ordinal' ? 'mean category index' : HEADLINE_NAME[label.value_type];
  return (
    <>
      {label.value_type === 'categorical' ? (
        <Chart
          title={`Shares per ${interval}`}
          name="trend"
          table={table}
          draw={(w) =>
            stackedShares(
              w,
              groups.flatMap((g) =>
                cats.map((c) => ({
                  row: bucketName(g.bucket, interval),
                  category: c,
                  share: ((g.shares ?? {}) as Record<string, number>)[c] ?? 0,
                })),
              ),
              cats,
            )
          }
        />
      ) : (
        <Chart
          title={`${yName} per ${interval}${label.value_type === 'ordinal' ? '' : ', with its 95% band'}`}
          name="trend"
          table={table}
          draw={(w) => trend(w, points, yName, label.value_type === 'binary' ? [0, 1] : undefined)}
        />
      )}
      <Chart
        title={`Evaluations per ${interval}`}
        name="volume"
        draw={(w) => volume(w, points, interval)}
        table={{
          columns: [
            { key: 'bucket', title: `${interval} (UTC)` },
            { key: 'n', title: 'evaluations' },
          ],
          rows: groups.map((g) => ({
            key: g.bucket!,
            cells: { bucket: bucketName(g.bucket, interval), n: g.n },
          })),
        }}
      />
    </>
  );
}

const groupName = (g: StatsGroup) =>
  Object.values(g.key as Record<string, unknown>)
    .map((v) =>
      v === null ? '(none)' : typeof v === 'object' ? JSON.stringify(v) : String(v as string),
    )
    .join(' · ') || 'all';

function Split({ label, groups, by }: { label: Label; groups: StatsGroup[]; by: string }) {
  const table: TableSpec = {
    columns: [{ key: 'group', title: by.replace('_', ' ') }, ...figureColumns(label)],
    rows: groups.map((g) => ({
      key: groupName(g),
      cells: { group: groupName(g), ...figureCells(label, g) },
    })),
  };
  const title = `By ${by.replace('_', ' ')}`;
  if (label.value_type === 'binary' || label.value_type === 'continuous')
    return (
      <Chart
        title={`${title}: ${HEADLINE_NAME[label.value_type]} with its 95% interval`}
        name="split"
        table={table}
        draw={(w) =>
          forest(
            w,
            groups.map((g) => ({
              name: groupName(g),
              value: headline(label, g).value as number | null,
              lo: g.ci95?.[0],
              hi: g.ci95?.[1],
            })),
            HEADLINE_NAME[label.value_type],
          )
        }
      />
    );
  const cats = label.categories ?? [];
  return (
    <Chart
      title={`${title}: shares of each category`}
      name="split"
      table={table}
      draw={(w) =>
        stackedShares(
          w,
          groups.flatMap((g) =>
            cats.map((c) => ({
              row: groupName(g),
              category: c,
              share: g.n ? (((g.counts ?? {}) as Record<string, number>)[c] ?? 0) / g.n : 0,
            })),
          ),
          cats,
        )
      }
    />
  );
}

export function LabelView({ route }: { route: Route }) {
  const id = route.id!;
  const interval = route.query.get('interval') || 'day';
  const split = route.query.get('split') ?? '';
  const evaluators = useEvaluators();
  const loaded = useLoad(async () => {
    const path = { id };
    const query = statsFilters(route.query);
    const stats = (extra: Record<string, string>) =>
      need(
        api.GET('/v1/evaluation-label/{id}/stats', {
          params: { path, query: { ...query, ...extra } as never },
        }),
      );
    const [label, all, overTime, bySplit, versions] = await Promise.all([
      need(api.GET('/v1/evaluation-label/{id}', { params: { path } })),
      stats({}),
      stats({ interval }),
      split ? stats({ group_by: split }) : Promise.resolve(undefined),
      need(api.GET('/v1/evaluation-label/{id}/versions', { params: { path } })),
    ]);
    return {
      label,
      all: all.groups[0],
      overTime: overTime.groups,
      bySplit: bySplit?.groups,
      versions,
    };
  }, [id, route.query.toString()]);

  const fields: Field[] = [
    { name: 'from', title: 'From (UTC)', kind: 'date' },
    { name: 'to', title: 'Until, not including (UTC)', kind: 'date' },
    { name: 'workflow', title: 'Workflow' },
    { name: 'source', title: 'Written by', kind: 'select', options: SOURCES },
    {
      name: 'created_by_evaluator_id',
      title: 'Evaluator',
      kind: 'select',
      options: [
        { value: '', text: 'any' },
        ...evaluators.map((e) => ({ value: e.id, text: e.name })),
      ],
    },
    { name: 'output_name', title: 'Output name' },
    {
      name: 'label_version',
      title: 'Label version',
      kind: 'select',
      options: [
        { value: '', text: 'any' },
        ...(loaded.data?.versions ?? []).map((v) => ({
          value: String(v.version),
          text: `v${v.version}`,
        })),
      ],
    },
    { name: 'interval', title: 'Trend by', kind: 'select', options: INTERVALS, default: 'day' },
    { name: 'split', title: 'Split by', kind: 'select', options: SPLITS },
  ];
  const { data, problem } = loaded;
  const label = data?.label;
  return (
    <section aria-labelledby="view-title">
      <h1 id="view-title">{label ? label.name : 'Label'}</h1>
      {label && (
        <p class="lede">
          {label.value_type} label, version {label.version}
          {label.description ? ` — ${label.description}` : ''}.{' '}
          <a href={href('agreement', undefined, { label: id })}>Agreement</a> ·{' '}
          <a href={href('compare', undefined, { label: id })}>Compare</a>
        </p>
      )}
      <Filters route={route} fields={fields} legend="Filters" />
      {problem && <Problem problem={problem} />}
      {data && label && (
        <div aria-busy={loaded.loading}>
          <p class="headline" data-headline>
            n = <Num value={data.all?.n ?? 0} field="n" />
            {(() => {
              const h = headline(label, data.all ?? {});
              return (
                <>
                  {' · '}
                  {HEADLINE_NAME[label.value_type]} ={' '}
                  {typeof h.value === 'number' || h.value === null ? (
                    <Num value={h.value} field={h.field} />
                  ) : (
                    <span data-field={h.field}>{h.value}</span>
                  )}
                  {h.ci95 !== undefined && (
                    <>
                      {' '}
                      (95% CI <Interval value={h.ci95} field="ci95" />)
                    </>
                  )}
                </>
              );
            })()}
            {(data.all?.warnings ?? []).includes('mixed_label_versions') && (
              <span class="warning">
                {' '}
                · mixes label versions {data.all.label_versions.join(', ')}: a breaking change lies
                between them
              </span>
            )}
          </p>
          {data.all && <Distribution label={label} f={data.all} />}
          <Trend label={label} groups={data.overTime} interval={interval} />
          {split && data.bySplit && <Split label={label} groups={data.bySplit} by={split} />}
          <FigureTable
            name="versions"
            caption="Label versions"
            spec={{
              columns: [
                { key: 'version', title: 'version' },
                { key: 'created_at', title: 'since' },
                { key: 'evaluation_count', title: 'evaluations' },
              ],
              rows: data.versions.map((v) => ({
                key: String(v.version),
                cells: {
                  version: v.version,
                  created_at: when(v.created_at),
                  evaluation_count: v.evaluation_count,
                },
              })),
            }}
          />
        </div>
      )}
    </section>
  );
}
