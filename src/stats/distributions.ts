// Distribution functions come from stdlib, a maintained numerical library; none is written here.
import binomialCdfOf from '@stdlib/stats-base-dists-binomial-cdf';
import chiSquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/** The standard normal quantile, e.g. 1.959964 for 0.975. */
export const zQuantile = (p: number): number => normalQuantile(p, 0, 1);

/** P(|Z| ≥ |z|) for a standard normal Z (its upper tail read by symmetry, for precision). */
export const normalTwoSided = (z: number): number => Math.min(1, 2 * normalCdf(-Math.abs(z), 0, 1));

/** Student's t quantile with `df` degrees of freedom (df may be fractional, as Welch's is). */
export const studentQuantile = (p: number, df: number): number => tQuantile(p, df);

/** P(|T| ≥ |t|) for Student's t with `df` degrees of freedom. */
export const studentTwoSided = (t: number, df: number): number =>
  Math.min(1, 2 * tCdf(-Math.abs(t), df));

/** P(X ≥ x) for chi-square with `df` degrees of freedom. */
export const chiSquareUpper = (x: number, df: number): number => 1 - chiSquareCdf(x, df);

/** P(X ≤ x) for X binomial with n trials of probability p. */
export const binomialCdf = (x: number, n: number, p: number): number => binomialCdfOf(x, n, p);
