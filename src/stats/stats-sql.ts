import type { ValueType } from '../evaluation-labels/evaluation-label.entity.js';
import type { RunStatus } from '../runs/run.entity.js';
import type { GroupKey, Interval, Source } from './dto/stats-query.dto.js';

/** The filters of §11, parsed: instants as Dates. */
export interface Filters {
  from?: Date;
  to?: Date;
  workflow?: string;
  run_status?: RunStatus;
  output_name?: string;
  created_by?: string;
  created_by_evaluator_id?: string;
  source?: Source;
  label_version?: number;
}

/**
 * Whose evaluations: an account's, of one label, of some labels or of one run, narrowed by
 * filters.
 */
export interface Selection {
  accountId: string;
  labelId?: string;
  labelIds?: string[];
  /** Per label id: only evaluations created before this instant. */
  before?: Map<string, Date>;
  evaluatorIds?: string[];
  runId?: string;
  filters: Filters;
}

export interface Sql {
  text: string;
  params: unknown[];
}

/** A grouping column: the SQL that computes it, over `e` (run_evaluations) and `r` (runs). */
export type GroupColumn = string;

/** Per label, when one statement covers several. */
export const LABEL: GroupColumn = 'e.evaluation_label_id';

export const GROUP_SQL: Record<GroupKey, GroupColumn> = {
  workflow: 'r.workflow',
  output_name: 'e.output_name',
  evaluator: 'e.created_by_evaluator_id',
  created_by: 'e.created_by',
  source: "CASE WHEN e.created_by_evaluator_id IS NULL THEN 'human' ELSE 'evaluator' END",
  label_version: 'e.label_version',
};

/** UTC buckets; `interval` is one of INTERVALS, never caller text. */
export const bucketSql = (interval: Interval): GroupColumn =>
  `date_trunc('${interval}', e.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;

const N = 'count(*)::int AS n';
/** The label versions a group holds: one when both ends are equal, else read per version. */
const VERSIONS = ['min(e.label_version) AS v_min', 'max(e.label_version) AS v_max'];
const MEAN = 'avg(e.value) AS mean';
const STDDEV = 'stddev_samp(e.value) AS stddev';

/** What PostgreSQL computes per group, by value type; the figures are made from these. */
export const MEASURES: Record<ValueType, string[]> = {
  binary: [N, ...VERSIONS, 'sum(e.value) AS sum'],
  continuous: [
    N,
    ...VERSIONS,
    MEAN,
    STDDEV,
    'min(e.value) AS min',
    'max(e.value) AS max',
    'percentile_cont(0.5) WITHIN GROUP (ORDER BY e.value) AS p50',
    'percentile_cont(0.9) WITHIN GROUP (ORDER BY e.value) AS p90',
  ],
  ordinal: [
    N,
    ...VERSIONS,
    MEAN,
    STDDEV,
    'percentile_disc(0.5) WITHIN GROUP (ORDER BY e.value) AS median',
  ],
  categorical: [N, ...VERSIONS],
};

/** How many equal bins a continuous label's [min_value, max_value] is split into. */
export const HISTOGRAM_BINS = 10;

/**
 * The bin of a value: 1 to HISTOGRAM_BINS within the label's range (max_value itself in the
 * last), 0 below it and HISTOGRAM_BINS + 1 above (values of an earlier, wider version).
 */
export const histogramBinSql = (min: number, max: number): string =>
  `CASE WHEN e.value = ${max} THEN ${HISTOGRAM_BINS} ` +
  `ELSE width_bucket(e.value, ${min}, ${max}, ${HISTOGRAM_BINS}) END`;

/** The value types whose values are category indexes, counted per category. */
export const DISCRETE: readonly ValueType[] = ['ordinal', 'categorical'];

/** Every value type's measures at once, for a statement over labels of several types. */
export const ALL_MEASURES = [...new Set(Object.values(MEASURES).flat())];

/** Evaluations per category (or per label version): one count per extra grouping column. */
export const COUNT_MEASURES = [N];

/** Seconds from the run's creation to the evaluation's. */
const LAG = 'extract(epoch FROM e.created_at - r.created_at)::float8';

/** The lag of evaluations after their runs: n and its p50, p90 (linear), max and mean. */
export const LAG_MEASURES = [
  N,
  `percentile_cont(0.5) WITHIN GROUP (ORDER BY ${LAG}) AS p50`,
  `percentile_cont(0.9) WITHIN GROUP (ORDER BY ${LAG}) AS p90`,
  `max(${LAG}) AS max`,
  `avg(${LAG}) AS mean`,
];

function where(sel: Selection, params: unknown[]): string[] {
  const add = (value: unknown) => `$${params.push(value)}`;
  const conditions = [`e.account_id = ${add(sel.accountId)}`];
  if (sel.labelId) conditions.push(`e.evaluation_label_id = ${add(sel.labelId)}`);
  if (sel.labelIds) conditions.push(`e.evaluation_label_id = ANY(${add(sel.labelIds)}::uuid[])`);
  if (sel.before) {
    // One object of label id to instant: a lookup per row, whatever the number of labels.
    const before = Object.fromEntries([...sel.before].map(([id, at]) => [id, at.toISOString()]));
    conditions.push(
      `e.created_at < (${add(JSON.stringify(before))}::jsonb ->> e.evaluation_label_id::text)::timestamptz`,
    );
  }
  if (sel.evaluatorIds) {
    conditions.push(`e.created_by_evaluator_id = ANY(${add(sel.evaluatorIds)}::uuid[])`);
  }
  if (sel.runId) conditions.push(`e.run_id = ${add(sel.runId)}`);
  const f = sel.filters;
  if (f.from) conditions.push(`e.created_at >= ${add(f.from)}`);
  if (f.to) conditions.push(`e.created_at < ${add(f.to)}`);
  if (f.workflow !== undefined) conditions.push(`r.workflow = ${add(f.workflow)}`);
  if (f.run_status !== undefined) conditions.push(`r.status = ${add(f.run_status)}`);
  if (f.output_name !== undefined) conditions.push(`e.output_name = ${add(f.output_name)}`);
  if (f.created_by !== undefined) conditions.push(`e.created_by = ${add(f.created_by)}`);
  if (f.created_by_evaluator_id !== undefined) {
    conditions.push(`e.created_by_evaluator_id = ${add(f.created_by_evaluator_id)}`);
  }
  if (f.label_version !== undefined) conditions.push(`e.label_version = ${add(f.label_version)}`);
  if (f.source) {
    conditions.push(
      `e.created_by_evaluator_id IS ${f.source === 'evaluator' ? 'NOT NULL' : 'NULL'}`,
    );
  }
  return conditions;
}

/**
 * FROM and WHERE of one selection: run_evaluations as `e`, joined to its run as `r` when a
 * filter or a grouping column needs it (or `withRuns` asks). Its parameters go onto `params`,
 * so that several selections can share one statement.
 */
export function scopeSql(sel: Selection, params: unknown[], withRuns = false): string {
  const conditions = where(sel, params);
  const needsRuns =
    withRuns || sel.filters.workflow !== undefined || sel.filters.run_status !== undefined;
  return [
    'FROM run_evaluations e',
    needsRuns ? 'JOIN runs r ON r.account_id = e.account_id AND r.id = e.run_id' : '',
    `WHERE ${conditions.join(' AND ')}`,
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * One aggregate statement: the groups as columns g0, g1, … then the measures, one row per
 * group in group order. Without groups it answers exactly one row, even over no evaluations.
 */
export function aggregateSql(sel: Selection, groups: GroupColumn[], measures: string[]): Sql {
  const params: unknown[] = [];
  const positions = groups.map((_, i) => i + 1).join(', ');
  const text = [
    `SELECT ${[...groups.map((g, i) => `${g} AS g${i}`), ...measures].join(', ')}`,
    scopeSql(
      sel,
      params,
      [...groups, ...measures].some((g) => /\br\./.test(g)),
    ),
    groups.length ? `GROUP BY ${positions} ORDER BY ${positions}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return { text, params };
}

/** The grouping columns of a /stats request: its group_by keys, then its time bucket. */
export function statsGroups(groupBy: GroupKey[] = [], interval?: Interval): GroupColumn[] {
  return [...groupBy.map((k) => GROUP_SQL[k]), ...(interval ? [bucketSql(interval)] : [])];
}

/**
 * Per evaluator of `sel.evaluatorIds` (as g0): `n`, the evaluations it created in the
 * window, current ones and, without a label, deleted ones (their create record: the history
 * of a deleted evaluation does not name its label), and `changed`, how many of those a
 * person (a change with no evaluator) later updated or deleted, each counted once.
 */
export function changedSql(sel: Selection): Sql {
  const params: unknown[] = [];
  // The scope's first parameter, $1, is the account.
  const own = [`SELECT e.id, e.created_by_evaluator_id AS evaluator ${scopeSql(sel, params)}`];
  const add = (value: unknown) => `$${params.push(value)}`;
  if (!sel.labelId) {
    const deleted = [
      `c.account_id = $1`,
      "c.operation = 'create'",
      `c.changed_by_evaluator_id = ANY(${add(sel.evaluatorIds ?? [])}::uuid[])`,
      ...(sel.filters.from ? [`c.changed_at >= ${add(sel.filters.from)}`] : []),
      ...(sel.filters.to ? [`c.changed_at < ${add(sel.filters.to)}`] : []),
      `NOT EXISTS (SELECT 1 FROM run_evaluations x
                    WHERE x.account_id = c.account_id AND x.id = c.evaluation_id)`,
    ];
    own.push(`SELECT c.evaluation_id, c.changed_by_evaluator_id FROM evaluation_changes c
               WHERE ${deleted.join(' AND ')}`);
  }
  const text = `WITH own AS (${own.join('\nUNION ALL\n')})
    SELECT own.evaluator AS g0, count(*)::int AS n,
           (count(*) FILTER (WHERE EXISTS (
              SELECT 1 FROM evaluation_changes p
               WHERE p.account_id = $1 AND p.evaluation_id = own.id
                 AND p.operation <> 'create' AND p.changed_by_evaluator_id IS NULL)))::int AS changed
      FROM own
     GROUP BY 1 ORDER BY 1`;
  return { text, params };
}
