import {
  binomialCdf,
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

/** A rater agreement coefficient with its 95% interval (null where the data leave it undefined). */
export interface Coefficient {
  value: number | null;
  ci95: Interval | null;
}

const NONE: Coefficient = { value: null, ci95: null };

/**
 * Cohen's kappa of a k × k table of counts (rows: rater a, columns: rater b), weighted by
 * agreement weights w (1 on the diagonal; identity for the unweighted kappa), with the
 * large-sample standard error of Fleiss, Cohen & Everitt (1969), "Large sample standard
 * errors of kappa and weighted kappa", Psychological Bulletin 72(5), 323–327, eq. (13) for
 * weighted and its special case for unweighted kappa; the interval is kappa ± z·SE.
 * Null when every pair could agree by chance alone (p_e = 1).
 */
export function cohenKappa(table: number[][], weights: number[][]): Coefficient {
  const k = table.length;
  const n = table.flat().reduce((a, b) => a + b, 0);
  if (n === 0) return NONE;
  const p = table.map((row) => row.map((c) => c / n));
  const rows = p.map((row) => row.reduce((a, b) => a + b, 0));
  const cols = p[0].map((_, j) => p.reduce((a, row) => a + row[j], 0));
  let po = 0;
  let pe = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      po += weights[i][j] * p[i][j];
      pe += weights[i][j] * rows[i] * cols[j];
    }
  }
  if (!(1 - pe > 1e-15)) return NONE;
  const kappa = (po - pe) / (1 - pe);
  // w̄_i. = Σ_j p_.j w_ij and w̄_.j = Σ_i p_i. w_ij
  const wRow = rows.map((_, i) => cols.reduce((a, c, j) => a + c * weights[i][j], 0));
  const wCol = cols.map((_, j) => rows.reduce((a, r, i) => a + r * weights[i][j], 0));
  let sum = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      sum += p[i][j] * (weights[i][j] - (wRow[i] + wCol[j]) * (1 - kappa)) ** 2;
    }
  }
  const variance = (sum - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2);
  const se = Math.sqrt(Math.max(variance, 0));
  return { value: kappa, ci95: [kappa - Z95 * se, kappa + Z95 * se] };
}

/** Agreement weights of Cohen's unweighted kappa: 1 on the diagonal, 0 elsewhere. */
export const identityWeights = (k: number): number[][] =>
  Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : 0)));

/** Quadratic agreement weights over k ordered categories: 1 − (i − j)² / (k − 1)². */
export const quadraticWeights = (k: number): number[][] =>
  Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j) => 1 - (i - j) ** 2 / (k - 1) ** 2),
  );

/** Midranks of the categories of ordered counts (tied values share their mean rank). */
function midranks(counts: number[]): number[] {
  let below = 0;
  return counts.map((c) => {
    const rank = below + (c + 1) / 2;
    below += c;
    return rank;
  });
}

/**
 * Spearman's rho from a k × k table of counts of ordered categories: Pearson's r of the
 * midranks, as SciPy's spearmanr computes it. Null when a rater used one category only.
 */
export function spearmanOfTable(table: number[][]): number | null {
  const rowCounts = table.map((row) => row.reduce((a, b) => a + b, 0));
  const colCounts = table[0].map((_, j) => table.reduce((a, row) => a + row[j], 0));
  const n = rowCounts.reduce((a, b) => a + b, 0);
  const rx = midranks(rowCounts);
  const ry = midranks(colCounts);
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < table.length; i++) {
    sxx += rowCounts[i] * (rx[i] - mean) ** 2;
    syy += colCounts[i] * (ry[i] - mean) ** 2;
    for (let j = 0; j < table.length; j++) sxy += table[i][j] * (rx[i] - mean) * (ry[j] - mean);
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}

/** Fisher's z interval of a correlation r from n pairs (n ≥ 4): tanh(atanh r ± z/√(n − 3)). */
export function fisherInterval(r: number, n: number): Interval | null {
  if (n < 4) return null;
  const z = Math.atanh(r);
  const half = Z95 / Math.sqrt(n - 3);
  return [Math.tanh(z - half), Math.tanh(z + half)];
}

/** The paired t test of n differences with their mean and sample stddev (n ≥ 2). */
export function pairedT(n: number, mean: number, stddev: number): { ci95: Interval } & TestResult {
  const se = stddev / Math.sqrt(n);
  if (se === 0) return { ci95: [mean, mean], statistic: null, p: null };
  const half = studentQuantile(0.975, n - 1) * se;
  const t = mean / se;
  return { ci95: [mean - half, mean + half], statistic: t, p: studentTwoSided(t, n - 1) };
}

/** The signed ranks of the non-zero differences: their number, rank sums and Σ(t³ − t) of ties. */
export interface SignedRanks {
  n: number;
  plus: number;
  minus: number;
  ties: number;
}

/**
 * Wilcoxon's signed-rank test, zeros dropped, normal approximation with the tie correction
 * and no continuity correction, as SciPy's `wilcoxon(d, zero_method="wilcox",
 * correction=False, method="asymptotic")` computes it; the statistic is min(W+, W−).
 */
export function wilcoxonSignedRank(s: SignedRanks): TestResult {
  if (s.n === 0) return { statistic: null, p: null };
  const mean = (s.n * (s.n + 1)) / 4;
  const variance = (s.n * (s.n + 1) * (2 * s.n + 1) - s.ties / 2) / 24;
  const statistic = Math.min(s.plus, s.minus);
  if (!(variance > 0)) return { statistic, p: null };
  return { statistic, p: normalTwoSided((s.plus - mean) / Math.sqrt(variance)) };
}

/**
 * McNemar's exact test: of the discordant pairs, `up` went one way and `down` the other;
 * two-sided binomial test of up against p = 1/2 (SciPy's binomtest: by symmetry, twice the
 * smaller tail). The statistic is `up`; no discordant pair leaves it without a p-value.
 */
export function mcnemarExact(up: number, down: number): TestResult {
  const n = up + down;
  if (n === 0) return { statistic: 0, p: null };
  return { statistic: up, p: Math.min(1, 2 * binomialCdf(Math.min(up, down), n, 0.5)) };
}

/**
 * Bowker's test of symmetry of a k × k table (Bowker 1948, "A test for symmetry in
 * contingency tables", JASA 43(244), 572–574): Σ over i < j of (n_ij − n_ji)² / (n_ij + n_ji),
 * chi-square with one degree of freedom per pair of cells holding any count.
 */
export function bowker(table: number[][]): TestResult & { df: number } {
  let x2 = 0;
  let df = 0;
  for (let i = 0; i < table.length; i++) {
    for (let j = i + 1; j < table.length; j++) {
      const both = table[i][j] + table[j][i];
      if (both === 0) continue;
      x2 += (table[i][j] - table[j][i]) ** 2 / both;
      df++;
    }
  }
  if (df === 0) return { statistic: null, p: null, df };
  return { statistic: x2, p: chiSquareUpper(x2, df), df };
}
