import type { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import { compareAggregates } from './compare.js';
import type { Interval } from './dto/stats-query.dto.js';
import type {
  DirectionDto,
  HeadlineDto,
  TimeRangeDto,
  TrendBucketDto,
} from './dto/overview.dto.js';
import type { FiguresDto } from './dto/stats.dto.js';
import { type Aggregate, countsOf, figuresOf } from './figures.js';
import { DEFAULT_ALPHA } from './filters.js';
import type { Filters } from './stats-sql.js';

type Label = Pick<EvaluationLabelEntity, 'valueType' | 'categories' | 'higherIsBetter'>;

/** The end of the UTC bucket starting at `start`: the start of the next one. */
export function bucketEnd(start: Date, interval: Interval): Date {
  const y = start.getUTCFullYear();
  const m = start.getUTCMonth();
  const d = start.getUTCDate();
  const h = start.getUTCHours();
  switch (interval) {
    case 'hour':
      return new Date(Date.UTC(y, m, d, h + 1));
    case 'day':
      return new Date(Date.UTC(y, m, d + 1));
    case 'week':
      return new Date(Date.UTC(y, m, d + 7));
    case 'month':
      return new Date(Date.UTC(y, m + 1, 1));
  }
}

/** The ranges a direction compares, as instants. */
export interface DirectionRanges {
  baseline: { from: Date; to: Date } | null;
  candidate: { from: Date; to: Date } | null;
}

/**
 * The window is [from, to), or where not given the span of the buckets holding evaluations.
 * The candidate is the latest of those buckets up to the window's end; the baseline is the
 * rest of the window before it (null when that holds no instant: `from` lies in the latest
 * bucket). Without evaluations there is neither.
 */
export function directionRanges(
  window: Pick<Filters, 'from' | 'to'>,
  buckets: Date[],
  interval: Interval,
): DirectionRanges {
  if (buckets.length === 0) return { baseline: null, candidate: null };
  const last = buckets[buckets.length - 1];
  const start = window.from ?? buckets[0];
  const cutoff = window.from && window.from > last ? window.from : last;
  const candidate = { from: cutoff, to: window.to ?? bucketEnd(last, interval) };
  return { baseline: start < cutoff ? { from: start, to: cutoff } : null, candidate };
}

/** The category counted most often, the first in the label's order among equals. */
function modeOf(label: Label, a: Aggregate): string | null {
  if (a.n === 0) return null;
  const counts = countsOf(label, a);
  return label.categories?.[counts.indexOf(Math.max(...counts))] ?? null;
}

/** The headline figure of the label's value type, taken from its figures. */
export function headlineOf(label: Label, a: Aggregate, figures: FiguresDto): HeadlineDto {
  switch (label.valueType) {
    case 'binary':
      return { rate: figures.rate ?? null, ci95: figures.ci95 ?? null };
    case 'continuous':
      return { mean: figures.mean ?? null, ci95: figures.ci95 ?? null };
    case 'ordinal':
      return { median: figures.median ?? null, ci95: null };
    case 'categorical':
      return { mode: modeOf(label, a), ci95: null };
  }
}

/** One bucket of the trend: its n, headline and, for discrete labels, its counts. */
export function trendBucketOf(label: Label, bucket: Date, a: Aggregate): TrendBucketDto {
  const figures = figuresOf(label, a);
  return {
    bucket: bucket.toISOString(),
    n: a.n,
    ...headlineOf(label, a, figures),
    ...(figures.counts ? { counts: figures.counts } : {}),
  };
}

const range = (r: { from: Date; to: Date } | null): TimeRangeDto | null =>
  r && { from: r.from.toISOString(), to: r.to.toISOString() };

/** The verdict of /compare on the two ranges, at its default alpha. */
export function directionOf(
  label: Label,
  ranges: DirectionRanges,
  baseline: Aggregate,
  candidate: Aggregate,
): DirectionDto {
  const { verdict, test } = compareAggregates(label, baseline, candidate, DEFAULT_ALPHA);
  return {
    verdict,
    p_value: test?.p_value ?? null,
    baseline: range(ranges.baseline),
    candidate: range(ranges.candidate),
  };
}
