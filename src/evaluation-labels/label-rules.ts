import type { ValueType } from './evaluation-label.entity.js';

/** The part of a label that decides which values fit it. */
export interface LabelDefinition {
  name: string;
  valueType: ValueType;
  minValue: number | null;
  maxValue: number | null;
  categories: string[] | null;
}

const article = (type: ValueType) => (type === 'ordinal' ? `an ${type}` : `a ${type}`);

export const MIN_CATEGORIES = 2;
export const MAX_CATEGORIES = 100;

/** What is wrong with a label definition; empty when it is consistent. */
export function definitionProblems(def: LabelDefinition): string[] {
  const problems: string[] = [];
  const hasRange = def.minValue !== null || def.maxValue !== null;
  const hasCategories = def.categories !== null;
  switch (def.valueType) {
    case 'binary':
      if (hasRange) problems.push('a binary label takes no min_value or max_value');
      if (hasCategories) problems.push('a binary label takes no categories');
      break;
    case 'continuous':
      if (def.minValue === null || def.maxValue === null) {
        problems.push('a continuous label needs both min_value and max_value');
      } else if (!(def.minValue < def.maxValue)) {
        problems.push('min_value must be less than max_value');
      }
      if (hasCategories) problems.push('a continuous label takes no categories');
      break;
    case 'categorical':
    case 'ordinal': {
      if (hasRange)
        problems.push(`${article(def.valueType)} label takes no min_value or max_value`);
      const categories = def.categories;
      if (categories === null) {
        problems.push(`${article(def.valueType)} label needs categories`);
        break;
      }
      if (categories.length < MIN_CATEGORIES || categories.length > MAX_CATEGORIES) {
        problems.push(`categories must hold ${MIN_CATEGORIES} to ${MAX_CATEGORIES} entries`);
      }
      if (categories.some((c) => c.trim() === ''))
        problems.push('categories must not be empty strings');
      if (new Set(categories).size !== categories.length)
        problems.push('categories must be distinct');
      break;
    }
  }
  return problems;
}

/** Why `value` does not fit the label, or null when it does. */
export function valueProblem(def: LabelDefinition, value: number): string | null {
  const label = `Label "${def.name}"`;
  switch (def.valueType) {
    case 'binary':
      return value === 0 || value === 1
        ? null
        : `${label} is binary: value must be 0 or 1, got ${value}.`;
    case 'continuous': {
      const { minValue: min, maxValue: max } = def;
      return min !== null && max !== null && value >= min && value <= max
        ? null
        : `${label} is continuous: value must be from ${min} to ${max}, got ${value}.`;
    }
    case 'categorical':
    case 'ordinal': {
      const count = def.categories?.length ?? 0;
      return Number.isInteger(value) && value >= 0 && value < count
        ? null
        : `${label} is ${def.valueType}: value must be a whole-number index from 0 to ${count - 1} ` +
            `into its categories (${(def.categories ?? []).map((c) => JSON.stringify(c)).join(', ')}), got ${value}.`;
    }
  }
}

/** The part of a definition that is a scale: what its versions record. */
export type Scale = Omit<LabelDefinition, 'name'>;

export const sameScale = (a: Scale, b: Scale) =>
  a.valueType === b.valueType &&
  a.minValue === b.minValue &&
  a.maxValue === b.maxValue &&
  JSON.stringify(a.categories) === JSON.stringify(b.categories);

/**
 * Why moving from scale `from` to `to` would change what stored numbers mean (§14's breaking
 * changes); empty when every value `from` allowed keeps its meaning under `to`: the same
 * scale, a continuous range made wider, categories added at the end of a categorical label.
 */
export function breakingChanges(from: Scale, to: Scale): string[] {
  if (from.valueType !== to.valueType) {
    return [`value_type changes from ${from.valueType} to ${to.valueType}`];
  }
  switch (to.valueType) {
    case 'binary':
      return [];
    case 'continuous': {
      const reasons: string[] = [];
      if (to.minValue! > from.minValue!) reasons.push(`min_value rises to ${to.minValue}`);
      if (to.maxValue! < from.maxValue!) reasons.push(`max_value falls to ${to.maxValue}`);
      return reasons;
    }
    case 'categorical':
    case 'ordinal': {
      const before = from.categories ?? [];
      const after = to.categories ?? [];
      const kept = before.every((c, i) => after[i] === c);
      if (!kept) return ['categories are removed, renamed or reordered'];
      if (after.length > before.length && to.valueType === 'ordinal') {
        return ['categories are added to an ordinal scale'];
      }
      return [];
    }
  }
}
