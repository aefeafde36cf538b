import { describe, expect, it } from '@jest/globals';
import { agreementFigures, tableOf } from './agreement.js';
import {
  bowker,
  cohenKappa,
  identityWeights,
  mcnemarExact,
  wilcoxonSignedRank,
} from './inference.js';

// The regular cases are checked against SciPy end to end (test/agreement.e2e.spec.ts and
// test/paired-compare.e2e.spec.ts); these are the data no request can produce today.
describe('values outside the current categories', () => {
  it('have no cell: the table, kappa and percent agreement leave them out', () => {
    expect(
      tableOf(2, [
        [0, 0, 3],
        [2, 0, 4],
        [1, 1, 1],
        [1, -1, 2],
      ]),
    ).toEqual([
      [3, 0],
      [0, 1],
    ]);
    const label = { valueType: 'categorical' as const, categories: ['a', 'b'] };
    const figures = agreementFigures(label, {
      n: 6,
      confusion: [
        [0, 0, 2],
        [3, 3, 4],
      ],
    });
    expect(figures).toMatchObject({
      n_pairs: 6,
      confusion: {
        categories: ['a', 'b'],
        counts: [
          [2, 0],
          [0, 0],
        ],
      },
      percent_agreement: 1,
      kappa: { estimate: null, ci95: null, weights: 'none' },
    });
    const outside = agreementFigures(label, { n: 2, confusion: [[5, 5, 2]] });
    expect(outside.percent_agreement).toBeNull();
  });
});

describe('tests without data to test', () => {
  it('answer null, never NaN', () => {
    expect(
      cohenKappa(
        [
          [0, 0],
          [0, 0],
        ],
        identityWeights(2),
      ),
    ).toEqual({ value: null, ci95: null });
    expect(mcnemarExact(0, 0)).toEqual({ statistic: 0, p: null });
    expect(
      bowker([
        [3, 0],
        [0, 2],
      ]),
    ).toEqual({ statistic: null, p: null, df: 0 });
    expect(wilcoxonSignedRank({ n: 0, plus: 0, minus: 0, ties: 0 })).toEqual({
      statistic: null,
      p: null,
    });
  });
});
