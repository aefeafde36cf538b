import { api, type Label, need, type Schemas } from '../api.js';
import { sparkline } from '../charts.js';
import { Chart, type TableSpec } from '../components/chart.js';
import { type Field, Filters, INTERVALS, statsFilters } from '../components/filters.js';
import { Interval, Num } from '../components/num.js';
import { Problem } from '../components/problem.js';
import { Verdict } from '../components/verdict.js';
import { HEADLINE_NAME } from '../figures.js';
import { bucketName, fmt } from '../format.js';
import { useLoad } from '../load.js';
import { href, type Route } from '../router.js';
import { everyPage } from './shared.js';

type Overview = Schemas['LabelOverview'];

/** Every label's overview, page after page. */
const overviews = (query: Record<string, string>): Promise<Overview[]> =>
  everyPage((cursor) =>
    need(
      api.GET('/v1/evaluation-labels/stats', { params: { query: { ...query, cursor } as never } }),
    ),
  );

const FIELD: Record<string, 'rate' | 'mean' | 'median' | 'mode'> = {
  binary: 'rate',
  continuous: 'mean',
  ordinal: 'median',
  categorical: 'mode',
};

function HeadlineValue({ label, h }: { label: Label; h: Schemas['Headline'] }) {
  const field = FIELD[label.value_type];
  const value = h[field];
  return typeof value === 'string' ? (
    <span data-field={field}>{value}</span>
  ) : (
    <Num value={value ?? null} field={field} />
  );
}

/** The window and the ranges of a direction, as Compare's filters (dates, as the URL holds them). */
function compareLink(o: Overview, query: URLSearchParams): string | undefined {
  const d = o.direction;
  if (!d.baseline || !d.candidate) return undefined;
  const day = (iso: string) => iso.slice(0, 10);
  const exact = [d.baseline.from, d.baseline.to, d.candidate.from, d.candidate.to].every((i) =>
    i.endsWith('T00:00:00.000Z'),
  );
  if (!exact) return undefined;
  return href('compare', undefined, {
    label: o.label.id,
    'baseline.from': day(d.baseline.from),
    'baseline.to': day(d.baseline.to),
    'candidate.from': day(d.candidate.from),
    'candidate.to': day(d.candidate.to),
    'baseline.workflow': query.get('workflow') ?? undefined,
    'candidate.workflow': query.get('workflow') ?? undefined,
  });
}

function LabelCard({
  o,
  interval,
  query,
}: {
  o: Overview;
  interval: string;
  query: URLSearchParams;
}) {
  const { label } = o;
  const field = FIELD[label.value_type];
  const numeric = field === 'rate' || field === 'mean';
  const table: TableSpec = {
    columns: [
      { key: 'bucket', title: `${interval} (UTC)` },
      { key: 'n', title: 'n' },
      { key: field, title: HEADLINE_NAME[label.value_type] },
      ...(numeric ? [{ key: 'ci95', title: '95% CI' }] : []),
    ],
    rows: o.trend.map((b) => ({
      key: b.bucket,
      cells: {
        bucket: bucketName(b.bucket, interval),
        n: b.n,
        [field]: b[field] ?? null,
        ci95: b.ci95 ?? null,
      },
    })),
  };
  const link = compareLink(o, query);
  return (
    <article class="card" data-label={label.id} aria-labelledby={`l-${label.id}`}>
      <h2 id={`l-${label.id}`}>
        <a href={href('label', label.id, Object.fromEntries(query))}>{label.name}</a>
      </h2>
      <p class="figures">
        {label.value_type} · n = <Num value={o.figures.n} field="n" /> ·{' '}
        {HEADLINE_NAME[label.value_type]} = <HeadlineValue label={label} h={o.headline} />
        {numeric && (
          <>
            {' '}
            (95% CI <Interval value={o.headline.ci95} field="ci95" />)
          </>
        )}
      </p>
      <p class="direction">
        Latest {interval} against the earlier ones: <Verdict verdict={o.direction.verdict} />
        {o.direction.p_value != null && <> (p = {fmt(o.direction.p_value)})</>}
        {link && (
          <>
            {' '}
            · <a href={link}>compare</a>
          </>
        )}
      </p>
      {o.trend.length > 0 && (
        <Chart
          title={`${label.name}: ${numeric ? HEADLINE_NAME[label.value_type] : 'evaluations'} per ${interval}`}
          name={`trend-${label.id}`}
          table={table}
          draw={(w) =>
            sparkline(
              w,
              o.trend.map((b) => ({
                at: new Date(b.bucket),
                value: numeric ? (b[field] ?? null) : b.n,
                n: b.n,
              })),
              label.value_type === 'binary' ? [0, 1] : undefined,
            )
          }
        />
      )}
    </article>
  );
}

export function OverviewView({ route }: { route: Route }) {
  const interval = route.query.get('interval') || 'day';
  const loaded = useLoad(
    () => overviews({ ...statsFilters(route.query), interval }),
    [route.query.toString()],
  );
  const fields: Field[] = [
    { name: 'from', title: 'From (UTC)', kind: 'date' },
    { name: 'to', title: 'Until, not including (UTC)', kind: 'date' },
    { name: 'workflow', title: 'Workflow' },
    { name: 'interval', title: 'Trend by', kind: 'select', options: INTERVALS, default: 'day' },
  ];
  return (
    <section aria-labelledby="view-title">
      <h1 id="view-title">Overview</h1>
      <p class="lede">
        Every label: how many evaluations, its headline figure with a 95% interval, its trend, and
        whether the latest {interval} moved against the earlier ones.
      </p>
      <Filters route={route} fields={fields} legend="Filters" />
      {loaded.problem && <Problem problem={loaded.problem} />}
      {loaded.data && (
        <div class="cards" aria-busy={loaded.loading}>
          {loaded.data.length === 0 && <p>There are no labels yet: create one through the API.</p>}
          {loaded.data.map((o) => (
            <LabelCard key={o.label.id} o={o} interval={interval} query={route.query} />
          ))}
        </div>
      )}
    </section>
  );
}
