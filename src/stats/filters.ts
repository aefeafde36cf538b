import { ApiError } from '../common/api-error.js';
import { createValidationPipe } from '../common/validation.js';
import { FILTER_NAMES, StatsFiltersDto } from './dto/stats-query.dto.js';
import type { PairBy } from './paired-sql.js';
import type { Filters } from './stats-sql.js';

/** Validated filters as the SQL takes them; `prefix` names the group of /compare in errors. */
export function toFilters<T extends { from?: string; to?: string }>(
  dto: T,
  prefix = '',
): Omit<T, 'from' | 'to'> & Pick<Filters, 'from' | 'to'> {
  const instant = (name: 'from' | 'to'): Date | undefined => {
    const value = dto[name];
    if (value === undefined) return undefined;
    const at = new Date(value);
    if (Number.isNaN(at.getTime())) {
      const message = `${prefix}${name} is not a real instant: "${value}"`;
      throw new ApiError('validation_failed', `${message}.`, [{ field: prefix + name, message }]);
    }
    return at;
  };
  const from = instant('from');
  const to = instant('to');
  if (from && to && from >= to) {
    const message = `${prefix}from must be before ${prefix}to: [from, to) holds no instant`;
    throw new ApiError('validation_failed', `${message}.`, [{ field: `${prefix}from`, message }]);
  }
  return { ...dto, from, to };
}

const pipe = createValidationPipe();
/** The significance level of /compare's verdict when `alpha` is not given. */
export const DEFAULT_ALPHA = 0.05;
/** How many regressions a paired /compare lists when `regressions_limit` is not given, and at most. */
export const DEFAULT_REGRESSIONS_LIMIT = 20;
export const MAX_REGRESSIONS_LIMIT = 500;
/** The longest metadata key `pair_by=metadata.<key>` takes. */
export const MAX_PAIR_KEY_LENGTH = 200;

const invalid = (field: string, message: string) =>
  new ApiError('validation_failed', `${message}.`, [{ field, message }]);

/** alpha: a significance level strictly between 0 and 1. */
function parseAlpha(value: unknown): number {
  const alpha = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!(alpha > 0 && alpha < 1)) {
    throw invalid('alpha', 'alpha must be a number between 0 and 1 (exclusive), e.g. 0.05');
  }
  return alpha;
}

/** pair_by: `inputs`, or `metadata.<key>` with a key of 1–200 characters. */
function parsePairBy(value: unknown): PairBy {
  if (value === 'inputs') return { kind: 'inputs' };
  if (typeof value === 'string' && value.startsWith('metadata.')) {
    const key = value.slice('metadata.'.length);
    if (key.length >= 1 && key.length <= MAX_PAIR_KEY_LENGTH) return { kind: 'metadata', key };
  }
  throw invalid(
    'pair_by',
    `pair_by must be "inputs" or "metadata.<key>" with a key of 1–${MAX_PAIR_KEY_LENGTH} characters`,
  );
}

/** regressions_limit: a whole number from 1 to MAX_REGRESSIONS_LIMIT. */
function parseLimit(value: unknown): number {
  const limit = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= MAX_REGRESSIONS_LIMIT)) {
    throw invalid(
      'regressions_limit',
      `regressions_limit must be a whole number from 1 to ${MAX_REGRESSIONS_LIMIT}`,
    );
  }
  return limit;
}

/**
 * Two groups of filters from a query: `<group>.<filter>` for each group and each filter of
 * /stats, beside the named `extras`. Each group is validated as /stats validates its
 * filters, and its errors name the group (`baseline.from`).
 */
async function parseGroups<G extends string>(
  query: Record<string, unknown>,
  names: readonly [G, G],
  extras: readonly string[],
  operation: string,
): Promise<Record<G, Filters>> {
  const groups = new Map<string, Record<string, unknown>>(names.map((g) => [g, {}]));
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    const [group, filter, ...rest] = name.split('.');
    if (
      rest.length === 0 &&
      names.includes(group as G) &&
      FILTER_NAMES.includes(filter as (typeof FILTER_NAMES)[number])
    ) {
      groups.get(group)![filter] = value;
    } else if (!extras.includes(name)) {
      unknown.push(name);
    }
  }
  if (unknown.length > 0) {
    const also = extras.length ? `${extras.join(', ')} and ` : '';
    throw new ApiError(
      'validation_failed',
      `Unknown query parameter ${unknown.map((u) => `"${u}"`).join(', ')}; use ${also}` +
        `${names.map((g) => `${g}.<filter>`).join(' or ')} with a filter of ${FILTER_NAMES.join(', ')}.`,
      unknown.map((field) => ({ field, message: `${field} is not a parameter of ${operation}` })),
    );
  }
  const parsed = await Promise.all(
    names.map(async (group) => {
      try {
        const dto = (await pipe.transform(groups.get(group), {
          type: 'query',
          metatype: StatsFiltersDto,
        })) as StatsFiltersDto;
        return toFilters(dto, `${group}.`);
      } catch (err) {
        if (!(err instanceof ApiError) || err.details === undefined) throw err;
        const details = err.details.map((d) =>
          d.field.startsWith(`${group}.`)
            ? d
            : { field: `${group}.${d.field}`, message: d.message },
        );
        throw new ApiError(
          err.code,
          `Invalid ${group} filters: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}.`,
          details,
        );
      }
    }),
  );
  return Object.fromEntries(names.map((g, i) => [g, parsed[i]])) as Record<G, Filters>;
}

/** The pairing of a paired /compare. */
export interface Pairing {
  pairBy: PairBy;
  /** As the query gave it: `inputs` or `metadata.<key>`. */
  name: string;
  regressionsLimit: number;
}

/**
 * The query of /compare: `baseline.<filter>` and `candidate.<filter>` for each filter of
 * /stats, `alpha`, and for a paired comparison `pair_by` and `regressions_limit`.
 */
export async function parseCompareQuery(query: Record<string, unknown>): Promise<{
  baseline: Filters;
  candidate: Filters;
  alpha: number;
  pairing?: Pairing;
}> {
  const { baseline, candidate } = await parseGroups(
    query,
    ['baseline', 'candidate'],
    ['alpha', 'pair_by', 'regressions_limit'],
    'compare',
  );
  const alpha = query.alpha === undefined ? DEFAULT_ALPHA : parseAlpha(query.alpha);
  if (query.pair_by === undefined) {
    if (query.regressions_limit !== undefined) {
      throw invalid(
        'regressions_limit',
        'regressions_limit needs pair_by: only paired comparisons list regressions',
      );
    }
    return { baseline, candidate, alpha };
  }
  const pairing = {
    pairBy: parsePairBy(query.pair_by),
    name: query.pair_by as string,
    regressionsLimit:
      query.regressions_limit === undefined
        ? DEFAULT_REGRESSIONS_LIMIT
        : parseLimit(query.regressions_limit),
  };
  return { baseline, candidate, alpha, pairing };
}

/** The same filters, whatever order or form their instants came in. */
const sameFilters = (a: Filters, b: Filters): boolean => {
  const canonical = (f: Filters): string =>
    JSON.stringify(
      Object.entries(f)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, unknown] => [k, v instanceof Date ? v.getTime() : v])
        .sort(([x], [y]) => x.localeCompare(y)),
    );
  return canonical(a) === canonical(b);
};

/**
 * The query of /agreement: `a.<filter>` and `b.<filter>` for each filter of /stats. Two
 * groups with the same filters would pair every evaluation with itself: a 400.
 */
export async function parseAgreementQuery(
  query: Record<string, unknown>,
): Promise<{ a: Filters; b: Filters }> {
  const { a, b } = await parseGroups(query, ['a', 'b'], [], 'agreement');
  if (sameFilters(a, b)) {
    throw new ApiError(
      'validation_failed',
      'Groups a and b have the same filters, so each evaluation would be paired with ' +
        'itself; give them different filters, e.g. a.source=human&b.source=evaluator.',
      [{ field: 'b', message: 'b must differ from a in at least one filter' }],
    );
  }
  return { a, b };
}
