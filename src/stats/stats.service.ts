import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { ASSAY_OPTIONS, type AssayModuleOptions, DEFAULT_STATS_TIMEOUT } from '../assay-options.js';
import type { Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { sqlState } from '../common/pg-errors.js';
import { selectColumns } from '../database/columns.js';
import { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import { EvaluationLabelsService } from '../evaluation-labels/evaluation-labels.service.js';
import { type AgreementAggregate } from './agreement.js';
import { type Comparison, compareAggregates } from './compare.js';
import type { PairedAggregate } from './paired.js';
import type { Pairing } from './filters.js';
import { agreementSql, pairedSql } from './paired-sql.js';
import type { GroupKey, Interval } from './dto/stats-query.dto.js';
import type { Aggregate } from './figures.js';
import { directionRanges, type DirectionRanges } from './overview.js';
import {
  aggregateSql,
  ALL_MEASURES,
  bucketSql,
  changedSql,
  COUNT_MEASURES,
  DISCRETE,
  type Filters,
  GROUP_SQL,
  type GroupColumn,
  HISTOGRAM_BINS,
  histogramBinSql,
  LABEL,
  LAG_MEASURES,
  MEASURES,
  type Selection,
  type Sql,
  statsGroups,
} from './stats-sql.js';

const QUERY_CANCELED = '57014';

/** One group's aggregate, with the values of its grouping columns. */
export interface GroupAggregate extends Aggregate {
  groups: unknown[];
}

type Row = Record<string, unknown>;

/** One label of the overview: what its figures, trend and direction are made from. */
export interface LabelOverview {
  label: EvaluationLabelEntity;
  total: Aggregate;
  trend: { bucket: Date; aggregate: Aggregate }[];
  ranges: DirectionRanges;
  baseline: Aggregate;
  candidate: Aggregate;
}

/** What one evaluator did in a window. */
export interface EvaluatorActivity {
  /** n and the lag's p50, p90, max and mean. */
  lag: Aggregate;
  volume: { bucket: Date; n: number }[];
  changed: { n: number; changed: number };
}

@Injectable()
export class StatsService {
  private readonly labelColumns: string;
  /** DB_STATS_TIMEOUT, in seconds. */
  private readonly timeout: number;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly labels: EvaluationLabelsService,
    @Inject(ASSAY_OPTIONS) options: AssayModuleOptions,
  ) {
    this.labelColumns = selectColumns(db, EvaluationLabelEntity);
    this.timeout = options.statsTimeoutSeconds ?? DEFAULT_STATS_TIMEOUT;
  }

  /** The label's figures per group_by key and time bucket. */
  async labelStats(
    principal: Principal,
    labelId: string,
    filters: Filters,
    groupBy: GroupKey[] = [],
    interval?: Interval,
  ): Promise<{ label: EvaluationLabelEntity; groups: GroupAggregate[] }> {
    const label = await this.labels.get(principal, labelId);
    checkVersion(label, filters);
    const selection = { accountId: principal.accountId, labelId, filters };
    const groups = await this.read((tx) =>
      this.aggregate(tx, label, selection, statsGroups(groupBy, interval), true),
    );
    return { label, groups };
  }

  /** Per label, the figures of one run's evaluations. */
  async runSummary(
    principal: Principal,
    runId: string,
  ): Promise<{ label: EvaluationLabelEntity; aggregate: Aggregate }[]> {
    return this.read(async (tx) => {
      const [run] = await tx.query<Row[]>('SELECT 1 FROM runs WHERE account_id = $1 AND id = $2', [
        principal.accountId,
        runId,
      ]);
      if (!run) throw ApiError.notFound('Run', runId);
      const labels = await tx.query<EvaluationLabelEntity[]>(
        `SELECT ${this.labelColumns} FROM evaluation_labels l
          WHERE l.account_id = $1 AND l.id IN (SELECT evaluation_label_id FROM run_evaluations
                                               WHERE account_id = $1 AND run_id = $2)
          ORDER BY l.created_at, l.id`,
        [principal.accountId, runId],
      );
      const summary = [];
      for (const label of labels) {
        const selection = { accountId: principal.accountId, labelId: label.id, runId, filters: {} };
        const [aggregate] = await this.aggregate(tx, label, selection, [], true);
        summary.push({ label, aggregate });
      }
      return summary;
    });
  }

  /** Baseline and candidate of one label, each narrowed by its own filters. */
  async compare(
    principal: Principal,
    labelId: string,
    baseline: Filters,
    candidate: Filters,
    alpha: number,
  ): Promise<
    { label: EvaluationLabelEntity; baseline: Aggregate; candidate: Aggregate } & Comparison
  > {
    const label = await this.labels.get(principal, labelId);
    checkVersion(label, baseline, 'baseline.');
    checkVersion(label, candidate, 'candidate.');
    const [b, c] = await this.read(async (tx) => {
      const of = async (filters: Filters) =>
        (
          await this.aggregate(tx, label, { accountId: principal.accountId, labelId, filters }, [])
        )[0];
      return [await of(baseline), await of(candidate)];
    });
    return { label, baseline: b, candidate: c, ...compareAggregates(label, b, c, alpha) };
  }

  /**
   * Two groups of one label on the same targets, reduced by PostgreSQL to what the
   * agreement figures are made from.
   */
  async agreement(
    principal: Principal,
    labelId: string,
    a: Filters,
    b: Filters,
  ): Promise<{ label: EvaluationLabelEntity; aggregate: AgreementAggregate }> {
    const label = await this.labels.get(principal, labelId);
    checkVersion(label, a, 'a.');
    checkVersion(label, b, 'b.');
    const selection = (filters: Filters) => ({ accountId: principal.accountId, labelId, filters });
    const sql = agreementSql(selection(a), selection(b), label.valueType);
    const [row] = await this.read((tx) => tx.query<Row[]>(sql.text, sql.params));
    return {
      label,
      aggregate: {
        n: Number(row.n),
        confusion: parseJson(row.confusion) as AgreementAggregate['confusion'],
        r: num(row.r),
        rho: num(row.rho),
        mae: num(row.mae),
        rmse: num(row.rmse),
        mean_difference: num(row.mean_difference),
        sd_difference: num(row.sd_difference),
        versions: parseJson(row.versions) as number[],
      },
    };
  }

  /**
   * Baseline and candidate compared as /compare does, and paired into cases: both groups'
   * figures and the cases' aggregate in one snapshot.
   */
  async pairedCompare(
    principal: Principal,
    labelId: string,
    baseline: Filters,
    candidate: Filters,
    alpha: number,
    { pairBy, regressionsLimit }: Pairing,
  ): Promise<
    { label: EvaluationLabelEntity; baseline: Aggregate; candidate: Aggregate } & Comparison & {
        paired: PairedAggregate;
      }
  > {
    const label = await this.labels.get(principal, labelId);
    checkVersion(label, baseline, 'baseline.');
    checkVersion(label, candidate, 'candidate.');
    const selection = (filters: Filters) => ({ accountId: principal.accountId, labelId, filters });
    const [b, c, paired] = await this.read(async (tx) => {
      const of = async (filters: Filters) =>
        (await this.aggregate(tx, label, selection(filters), []))[0];
      const sql = pairedSql(
        selection(baseline),
        selection(candidate),
        pairBy,
        label.valueType,
        label.higherIsBetter ?? true,
        regressionsLimit,
      );
      const [row] = await tx.query<Row[]>(sql.text, sql.params);
      return [await of(baseline), await of(candidate), toPaired(row)] as const;
    });
    return {
      label,
      baseline: b,
      candidate: c,
      ...compareAggregates(label, b, c, alpha),
      paired,
    };
  }

  /**
   * Every label of a page at once, in a fixed number of statements whatever their number:
   * each label's aggregate, its aggregates per time bucket, and the aggregate of its
   * direction's baseline (the window before its latest bucket, whose aggregate is the
   * candidate).
   */
  async overview(
    principal: Principal,
    labels: EvaluationLabelEntity[],
    filters: Filters,
    interval: Interval,
  ): Promise<LabelOverview[]> {
    if (labels.length === 0) return [];
    const accountId = principal.accountId;
    const labelIds = labels.map((l) => l.id);
    const discrete = labels.filter((l) => DISCRETE.includes(l.valueType)).map((l) => l.id);
    return this.read(async (tx) => {
      const of = (selection: Selection, groups: GroupColumn[]) =>
        this.aggregateOf(tx, selection, groups, ALL_MEASURES, discrete);
      const totals = byFirstGroup(await of({ accountId, labelIds, filters }, [LABEL]));
      const buckets = new Map<string, GroupAggregate[]>();
      for (const a of await of({ accountId, labelIds, filters }, [LABEL, bucketSql(interval)])) {
        const id = String(a.groups[0]);
        buckets.set(id, [...(buckets.get(id) ?? []), a]);
      }
      const ranges = new Map(
        labelIds.map((id) => {
          const starts = (buckets.get(id) ?? []).map((b) => b.groups[1] as Date);
          return [id, directionRanges(filters, starts, interval)];
        }),
      );
      const before = new Map(
        [...ranges]
          .filter(([, r]) => r.baseline !== null)
          .map(([id, r]) => [id, r.baseline!.to] as const),
      );
      const baselines = before.size
        ? byFirstGroup(
            await of({ accountId, labelIds: [...before.keys()], before, filters }, [LABEL]),
          )
        : new Map<string, GroupAggregate>();
      return labels.map((label) => {
        const trend = buckets.get(label.id) ?? [];
        return {
          label,
          total: totals.get(label.id) ?? NONE,
          trend: trend.map((a) => ({ bucket: a.groups[1] as Date, aggregate: a })),
          ranges: ranges.get(label.id)!,
          baseline: baselines.get(label.id) ?? NONE,
          candidate: trend[trend.length - 1] ?? NONE,
        };
      });
    });
  }

  /**
   * Per evaluator, over its current evaluations created in [from, to) (of one label if
   * given): their lag after their runs and their number per time bucket; and over those it
   * created there, deleted ones included, how many a person changed.
   */
  async evaluatorStats(
    principal: Principal,
    evaluatorIds: string[],
    filters: Pick<Filters, 'from' | 'to'>,
    labelId: string | undefined,
    interval: Interval,
  ): Promise<Map<string, EvaluatorActivity>> {
    if (evaluatorIds.length === 0) return new Map();
    const selection = { accountId: principal.accountId, labelId, evaluatorIds, filters };
    const evaluator = GROUP_SQL.evaluator;
    const [lags, volumes, changes] = await this.read(async (tx) => {
      const query = (sql: Sql) => tx.query<Row[]>(sql.text, sql.params);
      return [
        await query(aggregateSql(selection, [evaluator], LAG_MEASURES)),
        await query(aggregateSql(selection, [evaluator, bucketSql(interval)], COUNT_MEASURES)),
        await query(changedSql(selection)),
      ];
    });
    const lag = byFirstGroup(lags.map((row) => toAggregate(row, 1)));
    const activity = new Map<string, EvaluatorActivity>(
      evaluatorIds.map((id) => [
        id,
        { lag: lag.get(id) ?? NONE, volume: [], changed: { n: 0, changed: 0 } },
      ]),
    );
    for (const row of volumes) {
      const { groups, n } = toAggregate(row, 2);
      activity.get(String(groups[0]))?.volume.push({ bucket: groups[1] as Date, n });
    }
    for (const row of changes) {
      activity.get(String(row.g0))!.changed = { n: Number(row.n), changed: Number(row.changed) };
    }
    return activity;
  }

  /**
   * The measures of the label's value type per group, and for categorical and ordinal
   * labels the counts per category, both computed by PostgreSQL; with `histogram`, a
   * continuous label's counts per bin of its range too.
   */
  private async aggregate(
    tx: EntityManager,
    label: Pick<EvaluationLabelEntity, 'valueType' | 'minValue' | 'maxValue'>,
    selection: Selection,
    groups: GroupColumn[],
    histogram = false,
  ): Promise<GroupAggregate[]> {
    const discrete = DISCRETE.includes(label.valueType);
    const binned =
      histogram && label.valueType === 'continuous'
        ? histogramBinSql(label.minValue!, label.maxValue!)
        : undefined;
    return this.aggregateOf(tx, selection, groups, MEASURES[label.valueType], discrete, binned);
  }

  /**
   * `measures` per group, the label versions of each, and the counts per category where
   * `categorised` says: of the whole selection (true), or of these of its labels.
   */
  private async aggregateOf(
    tx: EntityManager,
    selection: Selection,
    groups: GroupColumn[],
    measures: string[],
    categorised: boolean | string[],
    binned?: string,
  ): Promise<GroupAggregate[]> {
    const main = aggregateSql(selection, groups, measures);
    const rows = await tx.query<Row[]>(main.text, main.params);
    const result = rows.map((row) => toAggregate(row, groups.length));
    const byGroup = new Map(result.map((a) => [groupKey(a.groups), a]));
    /** One count per group and value of `column`, handed to `take`. */
    const perGroup = async (
      sel: Selection,
      column: string,
      take: (group: GroupAggregate, value: number, n: number) => void,
    ) => {
      const sql = aggregateSql(sel, [...groups, column], COUNT_MEASURES);
      for (const row of await tx.query<Row[]>(sql.text, sql.params)) {
        const { groups: withValue, n } = toAggregate(row, groups.length + 1);
        const value = Number(withValue.pop());
        const group = byGroup.get(groupKey(withValue));
        if (group) take(group, value, n);
      }
    };
    const categories =
      categorised === true ? selection : categorised && { ...selection, labelIds: categorised };
    if (categories && (categories.labelIds?.length ?? 1) > 0) {
      await perGroup(categories, 'e.value::int', (group, category, n) => {
        (group.counts ??= [])[category] = n;
      });
    }
    if (binned) {
      for (const group of result) group.bins = new Array<number>(HISTOGRAM_BINS + 2).fill(0);
      await perGroup(selection, binned, (group, bin, n) => {
        group.bins![bin] = n;
      });
    }
    // Most groups hold one version; only a group that mixes versions needs them read.
    const mixed = new Set(result.filter((a) => a.labelVersions === undefined));
    if (mixed.size > 0) {
      await perGroup(selection, 'e.label_version', (group, version) => {
        if (mixed.has(group)) (group.labelVersions ??= []).push(version);
      });
    }
    return result;
  }

  /**
   * Runs statistics in one read-only snapshot, bounded by DB_STATS_TIMEOUT instead of the
   * usual statement timeout and planned per call; a query that runs out of time is a 503 that
   * says how to narrow it.
   */
  private async read<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction('REPEATABLE READ', async (tx) => {
        await tx.query('SET TRANSACTION READ ONLY');
        // Planned for their parameters, whatever the session keeps: how many rows a range,
        // a label or a workflow selects decides the plan.
        await tx.query(
          `SELECT set_config('statement_timeout', '${Math.ceil(this.timeout * 1000)}', true),
                  set_config('plan_cache_mode', 'force_custom_plan', true)`,
        );
        return work(tx);
      });
    } catch (err) {
      if (sqlState(err) !== QUERY_CANCELED) throw err;
      throw new ApiError(
        'statistics_timeout',
        `The statistics query ran longer than ${this.timeout} s ` +
          '(DB_STATS_TIMEOUT). Ask a narrower one: a shorter from–to range, a workflow or ' +
          'other filter, fewer group_by keys or a coarser interval.',
        undefined,
        { 'Retry-After': '60' },
      );
    }
  }
}

/** The aggregate of no evaluations. */
const NONE: Aggregate = { n: 0, labelVersions: [] };

/** Aggregates grouped by one id (g0), by that id. */
const byFirstGroup = (aggregates: GroupAggregate[]) =>
  new Map(aggregates.map((a) => [String(a.groups[0]), a]));

const groupKey = (groups: unknown[]) =>
  JSON.stringify(groups.map((g) => (g instanceof Date ? g.toISOString() : g)));

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A label_version filter must name a version the label has had. */
function checkVersion(label: EvaluationLabelEntity, filters: Filters, prefix = ''): void {
  const version = filters.label_version;
  if (version === undefined || version <= label.version) return;
  const message =
    `label "${label.name}" has versions 1 to ${label.version}; ` +
    `${prefix}label_version ${version} does not exist`;
  throw new ApiError('validation_failed', `${message[0].toUpperCase()}${message.slice(1)}.`, [
    { field: `${prefix}label_version`, message },
  ]);
}

/** The versions of a group whose ends are equal; undefined (to be read) when they differ. */
function versionsOf(row: Row): number[] | undefined {
  if (row.v_min === null || row.v_min === undefined) return [];
  return Number(row.v_min) === Number(row.v_max) ? [Number(row.v_min)] : undefined;
}

function toAggregate(row: Row, groupCount: number): GroupAggregate {
  const groups = Array.from({ length: groupCount }, (_, i) => row[`g${i}`]);
  return {
    groups,
    labelVersions: versionsOf(row),
    n: Number(row.n),
    sum: num(row.sum),
    mean: num(row.mean),
    stddev: num(row.stddev),
    min: num(row.min),
    max: num(row.max),
    p50: num(row.p50),
    p90: num(row.p90),
    median: num(row.median),
  };
}

/** json columns come parsed from pg, as text from PGlite's text protocol in some setups. */
const parseJson = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

function toPaired(row: Row): PairedAggregate {
  return {
    n: Number(row.n),
    up: Number(row.up),
    down: Number(row.down),
    mean_difference: num(row.mean_difference),
    sd_difference: num(row.sd_difference),
    ranked: Number(row.ranked),
    w_plus: num(row.w_plus),
    w_minus: num(row.w_minus),
    ties: num(row.ties),
    confusion: parseJson(row.confusion) as PairedAggregate['confusion'],
    regressions: parseJson(row.regressions) as PairedAggregate['regressions'],
  };
}
