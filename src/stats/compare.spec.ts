import { describe, expect, it } from '@jest/globals';
import { compareAggregates } from './compare.js';
import { exportTypeOf } from './export-format.js';
import { chiSquareHomogeneity, mannWhitney, twoProportions, welch } from './inference.js';

// The regular cases are checked against SciPy end to end (test/stats.e2e.spec.ts); these are
// the data that leave a test undefined, where SciPy answers NaN and Assay must still decide.
describe('tests the data leave undefined', () => {
  it('have no statistic and no p-value', () => {
    expect(twoProportions({ k: 4, n: 4 }, { k: 6, n: 6 })).toMatchObject({
      estimate: 0,
      statistic: null,
      p: null,
    });
    expect(welch({ n: 3, mean: 4, stddev: 0 }, { n: 2, mean: 3, stddev: 0 })).toEqual({
      estimate: 1,
      ci95: [1, 1],
      statistic: null,
      p: null,
    });
    expect(mannWhitney([0, 3, 0], [0, 5, 0])).toMatchObject({ statistic: 7.5, p: null });
    expect(chiSquareHomogeneity([0, 2], [0, 3])).toEqual({ statistic: null, p: null, df: 0 });
  });
});

describe('the verdict', () => {
  const continuous = { valueType: 'continuous', categories: null, higherIsBetter: true } as const;
  const same = { n: 3, mean: 4, stddev: 0 };

  it('is no change for an exact zero difference, and follows its sign otherwise', () => {
    expect(compareAggregates(continuous, same, same, 0.05).verdict).toBe('no_detectable_change');
    const higher = { ...same, mean: 4.5 };
    expect(compareAggregates(continuous, same, higher, 0.05).verdict).toBe('improved');
    const lowerIsBetter = { ...continuous, higherIsBetter: false };
    expect(compareAggregates(lowerIsBetter, same, higher, 0.05).verdict).toBe('regressed');
  });

  it('is insufficient_data without evaluations, or with one continuous value', () => {
    const binary = { valueType: 'binary', categories: null, higherIsBetter: true } as const;
    expect(compareAggregates(binary, { n: 0 }, { n: 3, sum: 1 }, 0.05)).toEqual({
      difference: null,
      test: null,
      verdict: 'insufficient_data',
    });
    expect(compareAggregates(continuous, { n: 1, mean: 2 }, same, 0.05).verdict).toBe(
      'insufficient_data',
    );
  });

  it('of a categorical label is changed, never better or worse', () => {
    const label = {
      valueType: 'categorical' as const,
      categories: ['a', 'b'],
      higherIsBetter: null,
    };
    const r = compareAggregates(
      label,
      { n: 20, counts: [20, 0] },
      { n: 20, counts: [0, 20] },
      0.05,
    );
    expect(r.verdict).toBe('changed');
    expect(r.difference).toEqual({ estimate: null, ci95: null });
  });
});

describe('exportTypeOf', () => {
  it('picks the export type the Accept header prefers by q-value; JSON wins ties', () => {
    expect(exportTypeOf('text/csv')).toBe('text/csv');
    expect(exportTypeOf('TEXT/CSV; charset=utf-8')).toBe('text/csv');
    expect(exportTypeOf('application/json;q=0.5, application/x-ndjson')).toBe(
      'application/x-ndjson',
    );
    expect(exportTypeOf('application/json, application/x-ndjson;q=0.5')).toBeUndefined();
    expect(exportTypeOf('application/x-ndjson, application/json')).toBeUndefined();
    expect(exportTypeOf('*/*')).toBeUndefined();
    expect(exportTypeOf(undefined)).toBeUndefined();
  });
});
