/** A figure as the dashboard shows it: up to 4 significant digits; counts in full. */
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (Number.isInteger(x)) return String(x);
  const abs = Math.abs(x);
  if (abs < 1e-4 || abs >= 1e6) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

export const fmtInterval = (ci: readonly number[] | null | undefined): string =>
  ci ? `[${fmt(ci[0])}, ${fmt(ci[1])}]` : '—';

export const when = (iso: string | null | undefined): string =>
  iso ? iso.replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC') : '—';

/** A UTC bucket's start as its interval reads it: an hour, a day, a week's Monday, a month. */
export function bucketName(iso: string | null | undefined, interval: string): string {
  if (!iso) return '—';
  if (interval === 'hour') return `${iso.slice(0, 13)}:00 UTC`;
  if (interval === 'month') return iso.slice(0, 7);
  return interval === 'week' ? `week of ${iso.slice(0, 10)}` : iso.slice(0, 10);
}
