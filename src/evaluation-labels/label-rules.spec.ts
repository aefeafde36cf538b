import { describe, expect, it } from '@jest/globals';
import {
  breakingChanges,
  definitionProblems,
  type LabelDefinition,
  type Scale,
  valueProblem,
} from './label-rules.js';

const label = (def: Partial<LabelDefinition>): LabelDefinition => ({
  name: 'quality',
  valueType: 'binary',
  minValue: null,
  maxValue: null,
  categories: null,
  ...def,
});

describe('valueProblem', () => {
  it('binary: 0 and 1 only', () => {
    const binary = label({});
    expect([0, 1].map((v) => valueProblem(binary, v))).toEqual([null, null]);
    expect(valueProblem(binary, 0.5)).toBe(
      'Label "quality" is binary: value must be 0 or 1, got 0.5.',
    );
  });

  it('continuous: inclusive bounds', () => {
    const c = label({ valueType: 'continuous', minValue: 1, maxValue: 2 });
    expect([1, 1.5, 2].map((v) => valueProblem(c, v))).toEqual([null, null, null]);
    expect(valueProblem(c, 0.999)).toContain('from 1 to 2');
    expect(valueProblem(c, 2.001)).toContain('got 2.001');
  });

  it('categorical and ordinal: a whole-number index, naming the categories', () => {
    const o = label({ valueType: 'ordinal', categories: ['low', 'high'] });
    expect([0, 1].map((v) => valueProblem(o, v))).toEqual([null, null]);
    expect(valueProblem(o, 2)).toBe(
      'Label "quality" is ordinal: value must be a whole-number index from 0 to 1 into its categories ("low", "high"), got 2.',
    );
    expect(valueProblem(o, 0.5)).not.toBeNull();
    expect(valueProblem(o, -1)).not.toBeNull();
  });
});

describe('definitionProblems', () => {
  it('finds nothing wrong with consistent definitions', () => {
    expect(definitionProblems(label({}))).toEqual([]);
    expect(
      definitionProblems(label({ valueType: 'continuous', minValue: -1, maxValue: 0 })),
    ).toEqual([]);
    expect(definitionProblems(label({ valueType: 'categorical', categories: ['a', 'b'] }))).toEqual(
      [],
    );
  });

  it('names each inconsistency', () => {
    expect(definitionProblems(label({ minValue: 0 }))).toEqual([
      'a binary label takes no min_value or max_value',
    ]);
    expect(
      definitionProblems(label({ valueType: 'continuous', minValue: 1, maxValue: 1 })),
    ).toEqual(['min_value must be less than max_value']);
    expect(definitionProblems(label({ valueType: 'ordinal', categories: ['a', 'a'] }))).toEqual([
      'categories must be distinct',
    ]);
    expect(definitionProblems(label({ valueType: 'ordinal' }))).toEqual([
      'an ordinal label needs categories',
    ]);
  });
});

describe('breakingChanges', () => {
  const scale = (def: Partial<LabelDefinition>): Scale => {
    const { valueType, minValue, maxValue, categories } = label(def);
    return { valueType, minValue, maxValue, categories };
  };
  const range = (min: number, max: number) =>
    scale({ valueType: 'continuous', minValue: min, maxValue: max });
  const cats = (valueType: 'categorical' | 'ordinal', categories: string[]) =>
    scale({ valueType, categories });

  it('keeps the version for a wider range and for categories added to a categorical label', () => {
    expect(breakingChanges(range(1, 5), range(1, 5))).toEqual([]);
    expect(breakingChanges(range(1, 5), range(0, 10))).toEqual([]);
    expect(breakingChanges(range(1, 5), range(1, 7))).toEqual([]);
    expect(
      breakingChanges(cats('categorical', ['a', 'b']), cats('categorical', ['a', 'b', 'c'])),
    ).toEqual([]);
    expect(breakingChanges(scale({}), scale({}))).toEqual([]);
  });

  it('makes a new version for a range made narrower or moved', () => {
    expect(breakingChanges(range(1, 10), range(1, 5))).toEqual(['max_value falls to 5']);
    expect(breakingChanges(range(1, 10), range(2, 11))).toEqual(['min_value rises to 2']);
    expect(breakingChanges(range(1, 10), range(2, 9))).toHaveLength(2);
  });

  it('makes a new version for categories removed, renamed, reordered, or added to an ordinal scale', () => {
    const ab = ['a', 'b', 'c'];
    for (const valueType of ['categorical', 'ordinal'] as const) {
      expect(breakingChanges(cats(valueType, ab), cats(valueType, ['a', 'b']))).toHaveLength(1);
      expect(breakingChanges(cats(valueType, ab), cats(valueType, ['a', 'B', 'c']))).toHaveLength(
        1,
      );
      expect(breakingChanges(cats(valueType, ab), cats(valueType, ['b', 'a', 'c']))).toHaveLength(
        1,
      );
      expect(
        breakingChanges(cats(valueType, ab), cats(valueType, ['x', 'a', 'b', 'c'])),
      ).toHaveLength(1);
    }
    expect(breakingChanges(cats('ordinal', ab), cats('ordinal', [...ab, 'd']))).toEqual([
      'categories are added to an ordinal scale',
    ]);
  });

  it('makes a new version for another value_type', () => {
    expect(breakingChanges(cats('categorical', ['a', 'b']), cats('ordinal', ['a', 'b']))).toEqual([
      'value_type changes from categorical to ordinal',
    ]);
    expect(breakingChanges(scale({}), range(0, 1))).toHaveLength(1);
  });
});
