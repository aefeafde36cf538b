import type { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import { tableOf } from './agreement.js';
import { verdictOf } from './compare.js';
import type {
  PairedTestDto,
  PairsDto,
  RegressionDto,
  SignedRankTestDto,
} from './dto/paired.dto.js';
import type { Verdict } from './dto/stats.dto.js';
import { bowker, mcnemarExact, pairedT, type TestResult, wilcoxonSignedRank } from './inference.js';

type Label = Pick<EvaluationLabelEntity, 'valueType' | 'categories' | 'higherIsBetter'>;

/** What PostgreSQL reduced the cases to (see pairedSql); d = candidate − baseline. */
export interface PairedAggregate {
  n: number;
  up: number;
  down: number;
  mean_difference: number | null;
  sd_difference: number | null;
  ranked: number;
  w_plus: number | null;
  w_minus: number | null;
  ties: number | null;
  confusion: [number, number, number][] | null;
  regressions: RegressionDto[];
}

export interface PairedComparison {
  pairs: PairsDto;
  paired_test: PairedTestDto | null;
  signed_rank_test?: SignedRankTestDto | null;
  regressions: RegressionDto[];
  verdict: Verdict;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * The paired comparison of §15 from the aggregate. binary: McNemar's exact test on the
 * cases whose value changed; continuous: the paired t test (which decides the verdict) and
 * Wilcoxon's signed-rank test beside it; ordinal: Wilcoxon's signed-rank test on the
 * category indexes; categorical: Bowker's test of symmetry.
 */
export function comparePairs(label: Label, a: PairedAggregate, alpha: number): PairedComparison {
  const { n, up, down } = a;
  const better = label.higherIsBetter ?? true;
  const pairs: PairsDto =
    label.valueType === 'categorical'
      ? { n, changed: up + down, unchanged: n - up - down }
      : {
          n,
          improved: better ? up : down,
          regressed: better ? down : up,
          unchanged: n - up - down,
        };
  const regressions = a.regressions;
  const signedRanks = () =>
    wilcoxonSignedRank({
      n: a.ranked,
      plus: num(a.w_plus) ?? 0,
      minus: num(a.w_minus) ?? 0,
      ties: num(a.ties) ?? 0,
    });
  const needs = label.valueType === 'continuous' ? 2 : 1;
  if (n < needs) {
    return {
      pairs,
      paired_test: null,
      ...(label.valueType === 'continuous' ? { signed_rank_test: null } : {}),
      regressions,
      verdict: 'insufficient_data',
    };
  }
  const mean = num(a.mean_difference) ?? 0;
  // Which way the cases moved: by the mean difference for the t test, by the signed-rank
  // sums for Wilcoxon's, by the discordant pairs for McNemar's, by any change for Bowker's.
  const tested = (
    method: PairedTestDto['method'],
    r: TestResult,
    direction: number,
    extra: Partial<PairedTestDto> = {},
  ) => ({
    paired_test: { method, statistic: r.statistic, p_value: r.p, ...extra },
    verdict: verdictOf(label, r.p, direction, alpha),
  });
  const rankDirection = (num(a.w_plus) ?? 0) - (num(a.w_minus) ?? 0);
  switch (label.valueType) {
    case 'binary':
      return { pairs, ...tested('mcnemar_exact', mcnemarExact(up, down), up - down), regressions };
    case 'continuous': {
      const t = pairedT(n, mean, num(a.sd_difference) ?? 0);
      const w = signedRanks();
      return {
        pairs,
        ...tested('paired_t', t, mean, { estimate: mean, ci95: t.ci95 }),
        signed_rank_test: { method: 'wilcoxon_signed_rank', statistic: w.statistic, p_value: w.p },
        regressions,
      };
    }
    case 'ordinal':
      return {
        pairs,
        ...tested('wilcoxon_signed_rank', signedRanks(), rankDirection, { estimate: mean }),
        regressions,
      };
    case 'categorical': {
      const k = label.categories?.length ?? 0;
      return {
        pairs,
        ...tested('bowker', bowker(tableOf(k, a.confusion ?? [])), up + down),
        regressions,
      };
    }
  }
}
