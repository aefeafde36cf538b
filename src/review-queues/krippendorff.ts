import type { AlphaMetric } from './dto/review-queue.dto.js';

/** One cell of a coincidence matrix: how often value c was paired with value k. */
export interface Coincidence {
  c: number;
  k: number;
  o: number;
}

/**
 * Krippendorff's alpha from a coincidence matrix, as in K. Krippendorff (2011), "Computing
 * Krippendorff's Alpha-Reliability" (Annenberg School for Communication, University of
 * Pennsylvania): alpha = 1 − (n − 1) · Σ o_ck δ²_ck / Σ n_c n_k δ²_ck, where o_ck sums over
 * units 1/(m_u − 1) for every ordered pair of values c, k by two different coders of a unit
 * with m_u ≥ 2 values, n_c = Σ_k o_ck and n = Σ_c n_c. δ² is, for nominal data, 0 for equal
 * values and 1 otherwise; ordinal, (Σ_{g from c to k} n_g − (n_c + n_k) / 2)²; interval,
 * (c − k)². Null when it is not defined: fewer than 2 pairable values, or no disagreement
 * could be expected (every value the same).
 */
export function krippendorffAlpha(cells: Coincidence[], metric: AlphaMetric): number | null {
  const counts = new Map<number, number>();
  for (const { c, o } of cells) counts.set(c, (counts.get(c) ?? 0) + o);
  const values = [...counts.keys()].sort((a, b) => a - b);
  const n = values.reduce((sum, v) => sum + counts.get(v)!, 0);
  if (n < 2 || values.length < 2) return null;
  const delta2 = distance(values, counts, metric);
  let observed = 0;
  for (const { c, k, o } of cells) observed += o * delta2(c, k);
  let expected = 0;
  for (const c of values) {
    for (const k of values) expected += counts.get(c)! * counts.get(k)! * delta2(c, k);
  }
  if (expected === 0) return null;
  return 1 - ((n - 1) * observed) / expected;
}

function distance(
  values: number[],
  counts: Map<number, number>,
  metric: AlphaMetric,
): (c: number, k: number) => number {
  switch (metric) {
    case 'nominal':
      return (c, k) => (c === k ? 0 : 1);
    case 'interval':
      return (c, k) => (c - k) ** 2;
    case 'ordinal': {
      // Cumulative counts: the sum of n_g from c to k is cum[k] − cum[c−1].
      const rank = new Map(values.map((v, i) => [v, i]));
      const cumulative: number[] = [];
      let total = 0;
      for (const v of values) cumulative.push((total += counts.get(v)!));
      return (c, k) => {
        const [lo, hi] = [rank.get(Math.min(c, k))!, rank.get(Math.max(c, k))!];
        const between = cumulative[hi] - (lo > 0 ? cumulative[lo - 1] : 0);
        return (between - (counts.get(c)! + counts.get(k)!) / 2) ** 2;
      };
    }
  }
}
