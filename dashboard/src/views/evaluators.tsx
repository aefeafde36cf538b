import { api, need, type Schemas } from '../api.js';
import { volume } from '../charts.js';
import { Chart } from '../components/chart.js';
import { type Field, Filters, INTERVALS, statsFilters } from '../components/filters.js';
import { Num } from '../components/num.js';
import { Problem } from '../components/problem.js';
import { bucketName } from '../format.js';
import { useLoad } from '../load.js';
import type { Route } from '../router.js';
import { everyPage, useLabels } from './shared.js';

type EvaluatorStats = Schemas['EvaluatorStats'];

const evaluatorStats = (query: Record<string, string>): Promise<EvaluatorStats[]> =>
  everyPage((cursor) =>
    need(api.GET('/v1/evaluators/stats', { params: { query: { ...query, cursor } as never } })),
  );

function EvaluatorCard({ s, interval }: { s: EvaluatorStats; interval: string }) {
  const e = s.evaluator;
  const lag = s.lag_seconds;
  return (
    <article class="card" data-evaluator={e.id} aria-labelledby={`e-${e.id}`}>
      <h2 id={`e-${e.id}`}>{e.name}</h2>
      <p class="lede">
        {e.kind}
        {e.version ? `, version ${e.version}` : ''}
        {e.disabled_at ? ' · disabled' : ''}
      </p>
      <dl class="facts">
        <dt>Evaluations</dt>
        <dd>
          <Num value={s.n} field="n" />
        </dd>
        <dt>Later changed by a person</dt>
        <dd>
          <Num value={s.changed.changed} field="changed" /> of{' '}
          <Num value={s.changed.n} field="changed_n" /> (share{' '}
          <Num value={s.changed.share ?? null} field="share" />)
        </dd>
        <dt>Lag from run to evaluation, seconds</dt>
        <dd>
          median <Num value={lag.p50 ?? null} field="p50" />, p90{' '}
          <Num value={lag.p90 ?? null} field="p90" />, mean{' '}
          <Num value={lag.mean ?? null} field="mean" />, max{' '}
          <Num value={lag.max ?? null} field="max" />
        </dd>
      </dl>
      {s.volume.length > 0 && (
        <Chart
          title={`${e.name}: evaluations per ${interval}`}
          name={`volume-${e.id}`}
          draw={(w) =>
            volume(
              w,
              s.volume.map((v) => ({ at: new Date(v.bucket), n: v.n })),
              interval,
            )
          }
          table={{
            columns: [
              { key: 'bucket', title: `${interval} (UTC)` },
              { key: 'n', title: 'evaluations' },
            ],
            rows: s.volume.map((v) => ({
              key: v.bucket,
              cells: { bucket: bucketName(v.bucket, interval), n: v.n },
            })),
          }}
        />
      )}
    </article>
  );
}

export function EvaluatorsView({ route }: { route: Route }) {
  const labels = useLabels();
  const interval = route.query.get('interval') || 'day';
  const loaded = useLoad(() => {
    const query: Record<string, string> = { ...statsFilters(route.query), interval };
    const label = route.query.get('evaluation_label_id');
    if (label) query.evaluation_label_id = label;
    return evaluatorStats(query);
  }, [route.query.toString()]);
  const fields: Field[] = [
    { name: 'from', title: 'From (UTC)', kind: 'date' },
    { name: 'to', title: 'Until, not including (UTC)', kind: 'date' },
    {
      name: 'evaluation_label_id',
      title: 'Label',
      kind: 'select',
      options: [
        { value: '', text: 'every label' },
        ...labels.map((l) => ({ value: l.id, text: l.name })),
      ],
    },
    { name: 'interval', title: 'Volume by', kind: 'select', options: INTERVALS, default: 'day' },
  ];
  return (
    <section aria-labelledby="view-title">
      <h1 id="view-title">Evaluators</h1>
      <p class="lede">
        Each evaluator’s volume over time, how often a person later changed what it wrote, and how
        long after a run it evaluated.
      </p>
      <Filters route={route} fields={fields} legend="Filters" />
      {loaded.problem && <Problem problem={loaded.problem} />}
      {loaded.data && (
        <div class="cards" aria-busy={loaded.loading}>
          {loaded.data.length === 0 && <p>There are no evaluators yet.</p>}
          {loaded.data.map((s) => (
            <EvaluatorCard key={s.evaluator.id} s={s} interval={interval} />
          ))}
        </div>
      )}
    </section>
  );
}
