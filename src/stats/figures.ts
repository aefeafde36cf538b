import type { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import type { FiguresDto, HistogramDto } from './dto/stats.dto.js';
import { meanInterval, wilson } from './inference.js';

/** What PostgreSQL computed for one group (see MEASURES), plus counts per category index. */
export interface Aggregate {
  n: number;
  sum?: number | null;
  mean?: number | null;
  stddev?: number | null;
  min?: number | null;
  max?: number | null;
  p50?: number | null;
  p90?: number | null;
  /** percentile_disc(0.5) of the category indexes. */
  median?: number | null;
  counts?: number[];
  /** Continuous: counts per bin of the range, below it first and above it last (see histogramBinSql). */
  bins?: number[];
  /** The label versions of the evaluations counted, ascending. */
  labelVersions?: number[];
}

type Label = Pick<EvaluationLabelEntity, 'valueType' | 'categories' | 'higherIsBetter'> &
  Partial<Pick<EvaluationLabelEntity, 'minValue' | 'maxValue'>>;

/** The bins of [min_value, max_value] with their counts, and how many values lie outside. */
function histogramOf(label: Label, bins: number[]): HistogramDto {
  const min = label.minValue!;
  const width = (label.maxValue! - min) / (bins.length - 2);
  return {
    bins: bins.slice(1, -1).map((n, i) => ({
      from: min + i * width,
      to: i === bins.length - 3 ? label.maxValue! : min + (i + 1) * width,
      n,
    })),
    outside: bins[0] + bins[bins.length - 1],
  };
}

const byCategory = <T>(label: Label, values: T[]): Record<string, T> =>
  Object.fromEntries((label.categories ?? []).map((c, i) => [c, values[i]]));

/** The counts per category index, zeros included. */
export const countsOf = (label: Label, a: Aggregate): number[] =>
  (label.categories ?? []).map((_, i) => a.counts?.[i] ?? 0);

/** The figures of §11 for one group; null where the group is too small for a figure. */
export function figuresOf(label: Label, a: Aggregate): FiguresDto {
  const label_versions = a.labelVersions ?? [];
  const warnings = label_versions.length > 1 ? ['mixed_label_versions' as const] : [];
  return { ...typedFigures(label, a), label_versions, warnings };
}

/** The figures of the label's value type. */
function typedFigures(label: Label, a: Aggregate): Omit<FiguresDto, 'label_versions' | 'warnings'> {
  const { n } = a;
  const some = <T>(v: T | null | undefined): T | null => (n > 0 ? (v ?? null) : null);
  switch (label.valueType) {
    case 'binary': {
      const k = a.sum ?? 0;
      return { n, rate: n > 0 ? k / n : null, ci95: n > 0 ? wilson(k, n) : null };
    }
    case 'continuous': {
      const twoOrMore = n >= 2 && a.mean != null && a.stddev != null;
      return {
        n,
        mean: some(a.mean),
        stddev: twoOrMore ? a.stddev : null,
        min: some(a.min),
        max: some(a.max),
        p50: some(a.p50),
        p90: some(a.p90),
        ci95: twoOrMore ? meanInterval(a.mean!, a.stddev!, n) : null,
        ...(a.bins ? { histogram: histogramOf(label, a.bins) } : {}),
      };
    }
    case 'ordinal':
      return {
        n,
        counts: byCategory(label, countsOf(label, a)),
        median: n > 0 && a.median != null ? (label.categories?.[a.median] ?? null) : null,
        mean_index: some(a.mean),
      };
    case 'categorical':
      return {
        n,
        counts: byCategory(label, countsOf(label, a)),
        shares: byCategory(
          label,
          countsOf(label, a).map((c) => (n > 0 ? c / n : null)),
        ),
      };
  }
}
