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

/** Whose evaluations: an account's, of one label or of one run, narrowed by filters. */
export interface Selection {
  accountId: string;
  labelId?: string;
  runId?: string;
  filters: Filters;
}

export interface Sql {
  text: string;
  params: unknown[];
}

/** A grouping column: the SQL that computes it, over `e` (run_evaluations) and `r` (runs). */
export type GroupColumn = string;

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

/** Evaluations per category (or per label version): one count per extra grouping column. */
export const COUNT_MEASURES = [N];

function where(sel: Selection, params: unknown[]): string[] {
  const add = (value: unknown) => `$${params.push(value)}`;
  const conditions = [`e.account_id = ${add(sel.accountId)}`];
  if (sel.labelId) conditions.push(`e.evaluation_label_id = ${add(sel.labelId)}`);
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
      groups.some((g) => g.includes('r.')),
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
