import type { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import type { DifferenceDto, TestDto, Verdict } from './dto/stats.dto.js';
import { type Aggregate, countsOf } from './figures.js';
import {
  chiSquareHomogeneity,
  mannWhitney,
  type TestResult,
  twoProportions,
  welch,
} from './inference.js';

type Label = Pick<EvaluationLabelEntity, 'valueType' | 'categories' | 'higherIsBetter'>;

export interface Comparison {
  difference: DifferenceDto | null;
  test: TestDto | null;
  verdict: Verdict;
}

const INSUFFICIENT: Comparison = { difference: null, test: null, verdict: 'insufficient_data' };

/**
 * The verdict: below alpha, the direction of the change (improved when it goes the way the
 * label says is better); with no spread to test against (p null), an exact difference of
 * zero is no change and any other is a change in its direction.
 */
export function verdictOf(
  label: Label,
  p: number | null,
  direction: number,
  alpha: number,
): Verdict {
  if (p === null ? direction === 0 : p >= alpha) return 'no_detectable_change';
  if (label.valueType === 'categorical') return 'changed';
  return direction > 0 === (label.higherIsBetter ?? true) ? 'improved' : 'regressed';
}

function tested(
  label: Label,
  method: TestDto['method'],
  difference: DifferenceDto,
  result: TestResult,
  direction: number,
  alpha: number,
): Comparison {
  return {
    difference,
    test: { method, statistic: result.statistic, p_value: result.p },
    verdict: verdictOf(label, result.p, direction, alpha),
  };
}

/** Candidate against baseline, by the method of the label's value type. */
export function compareAggregates(
  label: Label,
  baseline: Aggregate,
  candidate: Aggregate,
  alpha: number,
): Comparison {
  const needs = label.valueType === 'continuous' ? 2 : 1;
  if (baseline.n < needs || candidate.n < needs) return INSUFFICIENT;
  switch (label.valueType) {
    case 'binary': {
      const r = twoProportions(
        { k: candidate.sum ?? 0, n: candidate.n },
        { k: baseline.sum ?? 0, n: baseline.n },
      );
      const difference = { estimate: r.estimate, ci95: r.ci95 };
      return tested(label, 'two_proportion_z', difference, r, r.estimate, alpha);
    }
    case 'continuous': {
      const r = welch(sample(candidate), sample(baseline));
      const difference = { estimate: r.estimate, ci95: r.ci95 };
      return tested(label, 'welch_t', difference, r, r.estimate, alpha);
    }
    case 'ordinal': {
      const r = mannWhitney(countsOf(label, candidate), countsOf(label, baseline));
      const estimate = candidate.mean! - baseline.mean!;
      const ci95 =
        candidate.n >= 2 && baseline.n >= 2
          ? welch(sample(candidate), sample(baseline)).ci95
          : null;
      const direction = r.u - (candidate.n * baseline.n) / 2;
      return tested(label, 'mann_whitney_u', { estimate, ci95 }, r, direction, alpha);
    }
    case 'categorical': {
      const r = chiSquareHomogeneity(countsOf(label, candidate), countsOf(label, baseline));
      const difference = { estimate: null, ci95: null };
      return tested(label, 'pearson_chi_square', difference, r, 0, alpha);
    }
  }
}

const sample = (a: Aggregate) => ({ n: a.n, mean: a.mean ?? 0, stddev: a.stddev ?? 0 });
