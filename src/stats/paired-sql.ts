import type { ValueType } from '../evaluation-labels/evaluation-label.entity.js';
import { type Selection, scopeSql, type Sql } from './stats-sql.js';

/**
 * Midranks of `expr` over the rows of a CTE: tied values share the mean of their ranks,
 * as SciPy's rankdata (method "average") gives them.
 */
const midrank = (expr: string) =>
  `(rank() OVER (ORDER BY ${expr}) + (count(*) OVER (PARTITION BY ${expr}) - 1) / 2.0)::float8`;

/**
 * Each target's latest evaluation in one selection: one row per (run, output_name,
 * field_path), the evaluation created last (then the greatest id) counting. The target's
 * output name and field path are made never-null (`+name`, or `-` for none) so that a
 * pair is an equi-join the planner can hash, NULLs matching NULLs.
 */
function latestSql(sel: Selection, params: unknown[]): string {
  return `SELECT DISTINCT ON (e.run_id, e.output_name, e.field_path)
         e.run_id AS run, coalesce('+' || e.output_name, '-') AS o,
         coalesce('+' || e.field_path, '-') AS f, e.value, e.label_version AS lv
    ${scopeSql(sel, params)}
    ORDER BY e.run_id, e.output_name, e.field_path, e.created_at DESC, e.id DESC`;
}

/**
 * The agreement of two selections in one statement and one row: the pairs (targets both
 * evaluated, each side's latest value; x from a, y from b) are formed by PostgreSQL, which
 * also reduces them. Discrete labels get the confusion counts as [x, y, count] triples;
 * continuous ones the moments of the pairs and of their midranks; and the label versions
 * of the paired evaluations.
 */
export function agreementSql(a: Selection, b: Selection, valueType: ValueType): Sql {
  const params: unknown[] = [];
  const pairs = `WITH a AS (${latestSql(a, params)}),
       b AS (${latestSql(b, params)}),
       p AS MATERIALIZED (SELECT a.value AS x, b.value AS y, a.lv AS xv, b.lv AS yv
                            FROM a JOIN b USING (run, o, f))`;
  // The label versions the paired evaluations were checked against, both sides.
  const versions = `(SELECT coalesce(json_agg(v ORDER BY v), '[]')
            FROM (SELECT xv FROM p UNION SELECT yv FROM p) t(v)) AS versions`;
  const text =
    valueType === 'continuous'
      ? `${pairs}
  SELECT count(*)::int AS n, corr(x, y) AS r, corr(rx, ry) AS rho,
         avg(abs(y - x)) AS mae, sqrt(avg((y - x) * (y - x))) AS rmse,
         avg(y - x) AS mean_difference, stddev_samp(y - x) AS sd_difference, ${versions}
    FROM (SELECT x, y, ${midrank('x')} AS rx, ${midrank('y')} AS ry FROM p) ranked`
      : `${pairs}
  SELECT (SELECT count(*)::int FROM p) AS n,
         (SELECT coalesce(json_agg(json_build_array(x, y, n)), '[]')
            FROM (SELECT x::int AS x, y::int AS y, count(*)::int AS n FROM p GROUP BY 1, 2) t)
           AS confusion, ${versions}`;
  return { text, params };
}

/** How /compare pairs runs into cases: equal `inputs`, or equal values of one metadata key. */
export type PairBy = { kind: 'inputs' } | { kind: 'metadata'; key: string };

/** The case a run belongs to, as JSON; NULL when the run is not a case. */
function caseKeySql(pairBy: PairBy, params: unknown[]): string {
  return pairBy.kind === 'inputs' ? 'r.inputs' : `r.metadata -> $${params.push(pairBy.key)}::text`;
}

/**
 * Each case's value in one selection: the mean of its evaluations (categorical: the
 * category evaluated most often, the lowest index among equals), with the run of its
 * latest evaluation.
 */
function casesSql(sel: Selection, pairBy: PairBy, valueType: ValueType, params: unknown[]) {
  const scope = scopeSql(sel, params, true);
  const key = caseKeySql(pairBy, params);
  const latestRun = '(array_agg(e.run_id ORDER BY e.created_at DESC, e.id DESC))[1]';
  if (valueType !== 'categorical') {
    return `SELECT ${key} AS k, avg(e.value) AS v, ${latestRun} AS run
      ${scope} AND ${key} IS NOT NULL GROUP BY 1`;
  }
  return `SELECT DISTINCT ON (k) k, v, run
      FROM (SELECT ${key} AS k, e.value AS v, count(*) AS n, ${latestRun} AS run
              ${scope} AND ${key} IS NOT NULL GROUP BY 1, 2) m
     ORDER BY k, n DESC, v`;
}

/**
 * A paired comparison in one statement and one row: the cases both selections have
 * (x baseline, y candidate, d = y − x), their counts by sign, the moments of d, the
 * Wilcoxon signed-rank sums of the non-zero d (midranks of |d|, with Σ(t³ − t) over ties),
 * for categorical labels the table of (x, y) counts, and the `limit` cases with the largest
 * drop (`drop` says which sign of d is one; categorical: every change) as JSON.
 */
export function pairedSql(
  baseline: Selection,
  candidate: Selection,
  pairBy: PairBy,
  valueType: ValueType,
  higherIsBetter: boolean,
  limit: number,
): Sql {
  const params: unknown[] = [];
  const b = casesSql(baseline, pairBy, valueType, params);
  const c = casesSql(candidate, pairBy, valueType, params);
  const [drop, order] =
    valueType === 'categorical'
      ? ['d <> 0', 'k']
      : higherIsBetter
        ? ['d < 0', 'd, k']
        : ['d > 0', 'd DESC, k'];
  const table =
    valueType === 'categorical'
      ? `(SELECT coalesce(json_agg(json_build_array(x, y, n)), '[]')
            FROM (SELECT x::int AS x, y::int AS y, count(*)::int AS n FROM p GROUP BY 1, 2) t)`
      : 'NULL';
  const text = `WITH b AS (${b}),
       c AS (${c}),
       p AS MATERIALIZED (SELECT b.k, b.v AS x, c.v AS y, c.v - b.v AS d, b.run AS xr, c.run AS yr
                            FROM b JOIN c ON c.k = b.k),
       w AS (SELECT d, ${midrank('abs(d)')} AS rk, count(*) OVER (PARTITION BY abs(d)) AS t
               FROM p WHERE d <> 0)
  SELECT s.*, ws.*, ${table} AS confusion,
         (SELECT coalesce(json_agg(json_build_object('case', k, 'baseline', x, 'candidate', y,
                   'difference', d, 'baseline_run_id', xr, 'candidate_run_id', yr)
                   ORDER BY ${order}), '[]')
            FROM (SELECT * FROM p WHERE ${drop} ORDER BY ${order} LIMIT $${params.push(limit)}) worst)
           AS regressions
    FROM (SELECT count(*)::int AS n, (count(*) FILTER (WHERE d > 0))::int AS up,
                 (count(*) FILTER (WHERE d < 0))::int AS down, avg(d) AS mean_difference,
                 stddev_samp(d) AS sd_difference
            FROM p) s,
         (SELECT count(*)::int AS ranked, sum(rk) FILTER (WHERE d > 0) AS w_plus,
                 sum(rk) FILTER (WHERE d < 0) AS w_minus, sum(t * t - 1)::float8 AS ties
            FROM w) ws`;
  return { text, params };
}
