import {
  chiSquareUpper,
  normalTwoSided,
  studentQuantile,
  studentTwoSided,
  zQuantile,
} from './distributions.js';

/** Every interval here is a 95% one. */
const Z95 = zQuantile(0.975);

export type Interval = [number, number];

/** Wilson's score interval for k successes in n trials (n ≥ 1). */
export function wilson(k: number, n: number): Interval {
  const p = k / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [centre - half, centre + half];
}

/** The t interval of a mean from its sample standard deviation (n ≥ 2). */
export function meanInterval(mean: number, stddev: number, n: number): Interval {
  const half = studentQuantile(0.975, n - 1) * (stddev / Math.sqrt(n));
  return [mean - half, mean + half];
}

/** A test's outcome. statistic and p are null where the data leave the test undefined. */
export interface TestResult {
  statistic: number | null;
  p: number | null;
}

export interface Proportion {
  k: number;
  n: number;
}

/**
 * Candidate minus baseline proportion: Newcombe's hybrid score interval (his method 10,
 * built from both Wilson intervals) and the pooled two-proportion z test.
 */
export function twoProportions(
  candidate: Proportion,
  baseline: Proportion,
): { estimate: number; ci95: Interval } & TestResult {
  const p1 = candidate.k / candidate.n;
  const p2 = baseline.k / baseline.n;
  const [l1, u1] = wilson(candidate.k, candidate.n);
  const [l2, u2] = wilson(baseline.k, baseline.n);
  const estimate = p1 - p2;
  const ci95: Interval = [
    estimate - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
    estimate + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
  ];
  const pooled = (candidate.k + baseline.k) / (candidate.n + baseline.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / candidate.n + 1 / baseline.n));
  if (se === 0) return { estimate, ci95, statistic: null, p: null };
  const z = estimate / se;
  return { estimate, ci95, statistic: z, p: normalTwoSided(z) };
}

export interface Sample {
  n: number;
  mean: number;
  stddev: number;
}

/** Candidate minus baseline mean: Welch's t test and interval (each n ≥ 2). */
export function welch(
  candidate: Sample,
  baseline: Sample,
): { estimate: number; ci95: Interval | null } & TestResult {
  const v1 = candidate.stddev ** 2 / candidate.n;
  const v2 = baseline.stddev ** 2 / baseline.n;
  const estimate = candidate.mean - baseline.mean;
  const se = Math.sqrt(v1 + v2);
  if (se === 0) return { estimate, ci95: [estimate, estimate], statistic: null, p: null };
  const df = (v1 + v2) ** 2 / (v1 ** 2 / (candidate.n - 1) + v2 ** 2 / (baseline.n - 1));
  const half = studentQuantile(0.975, df) * se;
  const t = estimate / se;
  return {
    estimate,
    ci95: [estimate - half, estimate + half],
    statistic: t,
    p: studentTwoSided(t, df),
  };
}

/**
 * Mann–Whitney U of the candidate against the baseline, from the two groups' counts per
 * ordered category (every value within a category is a tie). Normal approximation with
 * the tie correction and a continuity correction of 0.5, as SciPy's `mannwhitneyu`
 * (method "asymptotic") computes it.
 */
export function mannWhitney(candidate: number[], baseline: number[]): TestResult & { u: number } {
  const n1 = candidate.reduce((a, b) => a + b, 0);
  const n2 = baseline.reduce((a, b) => a + b, 0);
  const n = n1 + n2;
  let below = 0; // baseline values in lower categories
  let u = 0;
  let ties = 0;
  for (let c = 0; c < candidate.length; c++) {
    u += candidate[c] * (below + baseline[c] / 2);
    below += baseline[c];
    const t = candidate[c] + baseline[c];
    ties += t ** 3 - t;
  }
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1))));
  if (!(sigma > 0)) return { u, statistic: u, p: null };
  const z = (Math.abs(u - mu) - 0.5) / sigma;
  return { u, statistic: u, p: Math.min(1, normalTwoSided(Math.max(z, 0))) };
}

/**
 * Pearson's chi-square test of homogeneity on the 2 × k table of counts (no continuity
 * correction). Categories neither group used carry no information and are left out.
 */
export function chiSquareHomogeneity(
  candidate: number[],
  baseline: number[],
): TestResult & { df: number } {
  const columns = candidate.map((c, i) => [c, baseline[i]] as const).filter(([c, b]) => c + b > 0);
  const rows = [columns.reduce((a, [c]) => a + c, 0), columns.reduce((a, [, b]) => a + b, 0)];
  const total = rows[0] + rows[1];
  const df = columns.length - 1;
  if (df < 1) return { statistic: null, p: null, df };
  let x2 = 0;
  for (const [c, b] of columns) {
    for (const [observed, row] of [
      [c, rows[0]],
      [b, rows[1]],
    ] as const) {
      const expected = (row * (c + b)) / total;
      x2 += (observed - expected) ** 2 / expected;
    }
  }
  return { statistic: x2, p: chiSquareUpper(x2, df), df };
}
