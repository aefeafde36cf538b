import { useState } from 'preact/hooks';
import { api, type Label, need, type Schemas } from '../api.js';
import { FigureTable } from '../components/chart.js';
import { JsonTree, selected } from '../components/json-tree.js';
import { Num } from '../components/num.js';
import { Problem } from '../components/problem.js';
import { when } from '../format.js';
import { useLoad } from '../load.js';
import { href, type Route } from '../router.js';
import { all, allLabels } from './shared.js';

type Evaluation = Schemas['RunEvaluation'];

/** A value as its label reads it: a category's name for ordinal and categorical labels. */
function ValueText({ e, label }: { e: Evaluation; label?: Label }) {
  const category = label?.categories?.[e.value];
  return (
    <>
      <Num value={e.value} field="value" />
      {category !== undefined &&
        (label?.value_type === 'ordinal' || label?.value_type === 'categorical') && (
          <> ({category})</>
        )}
    </>
  );
}

function History({
  runId,
  e,
  labels,
}: {
  runId: string;
  e: Evaluation;
  labels: Map<string, Label>;
}) {
  const [open, setOpen] = useState(false);
  const loaded = useLoad(
    async () =>
      open
        ? need(
            api.GET('/v1/run/{run_id}/evaluation/{evaluation_id}/history', {
              params: { path: { run_id: runId, evaluation_id: e.id } },
            }),
          )
        : undefined,
    [open, e.id],
  );
  const label = labels.get(e.evaluation_label_id);
  return (
    <div class="history">
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? 'Hide history' : 'Show history'}
      </button>
      {loaded.problem && <Problem problem={loaded.problem} />}
      {open && loaded.data && (
        <FigureTable
          name={`history-${e.id}`}
          caption={`History of ${label?.name ?? 'this evaluation'}`}
          spec={{
            columns: [
              { key: 'changed_at', title: 'when' },
              { key: 'operation', title: 'change' },
              { key: 'old_value', title: 'from' },
              { key: 'new_value', title: 'to' },
              { key: 'changed_by', title: 'by' },
            ],
            rows: loaded.data.map((c, i) => ({
              key: String(i),
              cells: {
                changed_at: when(c.changed_at),
                operation: c.operation,
                old_value: c.old_value ?? null,
                new_value: c.new_value ?? null,
                changed_by: c.changed_by ?? c.changed_by_evaluator_id ?? '',
              },
            })),
          }}
        />
      )}
    </div>
  );
}

function EvaluationCard({
  runId,
  e,
  labels,
}: {
  runId: string;
  e: Evaluation;
  labels: Map<string, Label>;
}) {
  const label = labels.get(e.evaluation_label_id);
  return (
    <li class="evaluation" data-evaluation={e.id}>
      <a href={href('label', e.evaluation_label_id)}>{label?.name ?? e.evaluation_label_id}</a>:{' '}
      <ValueText e={e} label={label} />
      {e.field_path && (
        <>
          {' '}
          at <code>{e.field_path}</code>
        </>
      )}
      <div class="by">
        by {e.created_by_evaluator_id ? 'evaluator ' : ''}
        {e.created_by} · {when(e.created_at)}
        {e.updated_by && e.updated_at !== e.created_at
          ? ` · changed by ${e.updated_by} ${when(e.updated_at)}`
          : ''}
      </div>
      <History runId={runId} e={e} labels={labels} />
    </li>
  );
}

const evaluationsOf = (id: string) =>
  all<Evaluation>((cursor) =>
    api.GET('/v1/run/{id}/evaluations', { params: { path: { id }, query: { cursor } } }),
  );

export function RunView({ route }: { route: Route }) {
  const id = route.id!;
  const loaded = useLoad(async () => {
    const [run, evaluations, labels] = await Promise.all([
      need(api.GET('/v1/run/{id}', { params: { path: { id } } })),
      evaluationsOf(id),
      allLabels(),
    ]);
    return { run, evaluations, labels: new Map(labels.map((l) => [l.id, l])) };
  }, [id]);
  const { data, problem } = loaded;
  if (problem) return <Problem problem={problem} />;
  if (!data) return <p>Loading the run…</p>;
  const { run, evaluations, labels } = data;
  const outputs = (run.outputs ?? {}) as Record<string, unknown>;
  const whole = evaluations.filter((e) => !e.output_name);
  return (
    <section aria-labelledby="view-title">
      <h1 id="view-title">Run {run.name ?? run.id}</h1>
      <p class="lede">
        {run.workflow ? `Workflow ${run.workflow}` : 'No workflow'} · {run.status ?? 'no status'} ·
        created {when(run.created_at)}
      </p>
      {whole.length > 0 && (
        <div class="target">
          <h2>Evaluations of the whole run</h2>
          <Target value={outputs} evaluations={whole} runId={id} labels={labels} />
        </div>
      )}
      {Object.entries(outputs).map(([name, value]) => {
        const mine = evaluations.filter((e) => e.output_name === name);
        return (
          <div class="target" key={name} data-output={name}>
            <h2>
              Output <code>{name}</code>
            </h2>
            <Target value={value} evaluations={mine} runId={id} labels={labels} />
          </div>
        );
      })}
      {evaluations.some((e) => e.output_name && !(e.output_name in outputs)) && (
        <p class="warning">Some evaluations target outputs this run no longer records.</p>
      )}
      <details>
        <summary>Inputs and metadata</summary>
        <pre class="json">
          {JSON.stringify({ inputs: run.inputs, metadata: run.metadata }, null, 2)}
        </pre>
      </details>
    </section>
  );
}

function Target({
  value,
  evaluations,
  runId,
  labels,
}: {
  value: unknown;
  evaluations: Evaluation[];
  runId: string;
  labels: Map<string, Label>;
}) {
  const marked = new Map<string, string[]>();
  for (const e of evaluations) {
    if (!e.field_path) continue;
    const name = labels.get(e.evaluation_label_id)?.name ?? e.evaluation_label_id;
    for (const node of selected(e.field_path, value))
      marked.set(node, [...(marked.get(node) ?? []), name]);
  }
  return (
    <div class="side-by-side">
      <pre class="json" tabIndex={0} aria-label="The output as JSON">
        <JsonTree value={value} marked={marked} />
      </pre>
      <ul class="evaluations">
        {evaluations.length === 0 && <li>Not evaluated.</li>}
        {evaluations.map((e) => (
          <EvaluationCard key={e.id} runId={runId} e={e} labels={labels} />
        ))}
      </ul>
    </div>
  );
}
