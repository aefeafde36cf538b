// The drawings, made by Observable Plot. Each takes the width of its box; colour always
// comes with a second sign (position, a mark, a label), never alone.
import * as Plot from '@observablehq/plot';

const base = (width: number, height = 220) => ({
  width,
  height,
  marginLeft: 56,
  style: { fontSize: '12px', background: 'transparent', color: 'currentColor' },
});

export interface Bar {
  name: string;
  value: number;
  marked?: boolean;
}

/** Bars for categories in the given order; a marked bar (the median) is hatched and named. */
export function bars(width: number, data: Bar[], yLabel: string, domain?: [number, number]) {
  return Plot.plot({
    ...base(width),
    x: { domain: data.map((d) => d.name), label: null, tickRotate: data.length > 6 ? -30 : 0 },
    y: { label: yLabel, grid: true, domain },
    marks: [
      Plot.barY(data, {
        x: 'name',
        y: 'value',
        fill: (d: Bar) => (d.marked ? 'var(--accent)' : 'var(--bar)'),
      }),
      Plot.text(
        data.filter((d) => d.marked),
        { x: 'name', y: 'value', text: () => 'median', dy: -8 },
      ),
      Plot.ruleY([0]),
    ],
  });
}

export interface Bin {
  x0: number;
  x1: number;
  n: number;
}

/** A histogram of counts over fixed bins. */
export function histogram(width: number, data: Bin[], domain: [number, number]) {
  return Plot.plot({
    ...base(width),
    x: { domain, label: 'value' },
    y: { label: 'evaluations', grid: true },
    marks: [
      Plot.rectY(data, { x1: 'x0', x2: 'x1', y: 'n', fill: 'var(--bar)', inset: 0.5 }),
      Plot.ruleY([0]),
    ],
  });
}

export interface Estimate {
  name: string;
  value: number | null;
  lo?: number | null;
  hi?: number | null;
}

/** Estimates with their 95% intervals, one row each; `zero` draws the line of no difference. */
export function forest(
  width: number,
  data: Estimate[],
  xLabel: string,
  zero = false,
  domain?: [number, number],
) {
  const shown = data.filter((d) => d.value !== null);
  return Plot.plot({
    ...base(width, 40 + 28 * Math.max(1, data.length)),
    marginLeft: 140,
    y: { domain: data.map((d) => d.name), label: null },
    x: { label: xLabel, grid: true, domain },
    marks: [
      ...(zero ? [Plot.ruleX([0], { strokeDasharray: '4 3' })] : []),
      Plot.ruleY(
        shown.filter((d) => d.lo != null && d.hi != null),
        { y: 'name', x1: 'lo', x2: 'hi', strokeWidth: 2, stroke: 'var(--line)' },
      ),
      Plot.dot(shown, { y: 'name', x: 'value', r: 4, fill: 'var(--line)' }),
    ],
  });
}

export interface TrendPoint {
  at: Date;
  value: number | null;
  lo?: number | null;
  hi?: number | null;
  n: number;
}

/** A figure over time with its 95% band. */
export function trend(
  width: number,
  data: TrendPoint[],
  yLabel: string,
  domain?: [number, number],
) {
  const shown = data.filter((d) => d.value !== null);
  const banded = shown.filter((d) => d.lo != null && d.hi != null);
  return Plot.plot({
    ...base(width),
    x: { type: 'utc', label: null },
    y: { label: yLabel, grid: true, domain },
    marks: [
      Plot.areaY(banded, { x: 'at', y1: 'lo', y2: 'hi', fill: 'var(--band)', curve: 'step' }),
      Plot.lineY(shown, {
        x: 'at',
        y: 'value',
        stroke: 'var(--line)',
        strokeWidth: 2,
        marker: 'circle',
      }),
    ],
  });
}

/** Plot's name of the API's buckets (PostgreSQL's weeks start on Monday). */
const PLOT_INTERVAL: Record<string, 'hour' | 'day' | 'monday' | 'month'> = {
  hour: 'hour',
  day: 'day',
  week: 'monday',
  month: 'month',
};

/** Evaluations per bucket. */
export function volume(width: number, data: { at: Date; n: number }[], interval: string) {
  return Plot.plot({
    ...base(width, 140),
    x: { type: 'utc', label: null },
    y: { label: 'evaluations', grid: true },
    marks: [
      Plot.rectY(data, {
        x: 'at',
        interval: PLOT_INTERVAL[interval],
        y: 'n',
        fill: 'var(--bar)',
        inset: 1,
      }),
      Plot.ruleY([0]),
    ],
  });
}

/** A small line without axes, for a table cell. */
export function sparkline(width: number, data: TrendPoint[], domain?: [number, number]) {
  return Plot.plot({
    width,
    height: 36,
    margin: 4,
    axis: null,
    x: { type: 'utc' },
    y: { domain },
    marks: [
      Plot.lineY(
        data.filter((d) => d.value !== null),
        { x: 'at', y: 'value', stroke: 'var(--line)', marker: 'dot' },
      ),
    ],
  });
}

/** Shares of categories stacked per row (time bucket or group). */
export function stackedShares(
  width: number,
  data: { row: string; category: string; share: number }[],
  categories: string[],
) {
  return Plot.plot({
    ...base(width, 40 + 28 * Math.max(1, new Set(data.map((d) => d.row)).size)),
    marginLeft: 140,
    x: { label: 'share', domain: [0, 1], percent: false },
    y: { type: 'band', label: null },
    color: { domain: categories, legend: true, scheme: 'tableau10' },
    marks: [
      Plot.barX(data, {
        y: 'row',
        x: 'share',
        fill: 'category',
        title: (d: { category: string; share: number }) => `${d.category}: ${d.share}`,
      }),
      Plot.text(
        data,
        Plot.stackX({
          y: 'row',
          x: 'share',
          text: (d: { category: string; share: number }) => (d.share >= 0.12 ? d.category : ''),
          fill: 'white',
        }),
      ),
    ],
  });
}

/** A confusion matrix as a grid of counts: the count is written in every cell. */
export function matrix(
  width: number,
  data: { a: string; b: string; n: number }[],
  categories: string[],
) {
  return Plot.plot({
    ...base(width, 60 + 36 * categories.length),
    marginLeft: 120,
    x: { domain: categories, label: 'group b', axis: 'top' },
    y: { domain: categories, label: 'group a' },
    color: { scheme: 'blues' },
    marks: [
      Plot.cell(data, { x: 'b', y: 'a', fill: 'n', inset: 1 }),
      Plot.text(data, {
        x: 'b',
        y: 'a',
        text: 'n',
        fill: 'black',
        stroke: 'white',
        strokeWidth: 3,
        paintOrder: 'stroke',
      }),
    ],
  });
}
