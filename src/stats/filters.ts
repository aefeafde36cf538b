import { ApiError } from '../common/api-error.js';
import { createValidationPipe } from '../common/validation.js';
import { FILTER_NAMES, StatsFiltersDto } from './dto/stats-query.dto.js';
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
const GROUPS = ['baseline', 'candidate'] as const;
/** The significance level of /compare's verdict when `alpha` is not given. */
export const DEFAULT_ALPHA = 0.05;

/** alpha: a significance level strictly between 0 and 1. */
function parseAlpha(value: unknown): number {
  const alpha = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!(alpha > 0 && alpha < 1)) {
    const message = 'alpha must be a number between 0 and 1 (exclusive), e.g. 0.05';
    throw new ApiError('validation_failed', `${message}.`, [{ field: 'alpha', message }]);
  }
  return alpha;
}

/**
 * The query of /compare: `baseline.<filter>` and `candidate.<filter>` for each filter of
 * /stats, and `alpha`. Each group is validated as /stats validates its filters, and its
 * errors name the group (`baseline.from`).
 */
export async function parseCompareQuery(
  query: Record<string, unknown>,
): Promise<{ baseline: Filters; candidate: Filters; alpha: number }> {
  const groups = {
    baseline: {} as Record<string, unknown>,
    candidate: {} as Record<string, unknown>,
  };
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    const [group, filter, ...rest] = name.split('.');
    if (
      rest.length === 0 &&
      GROUPS.includes(group as (typeof GROUPS)[number]) &&
      FILTER_NAMES.includes(filter as (typeof FILTER_NAMES)[number])
    ) {
      groups[group as (typeof GROUPS)[number]][filter] = value;
    } else if (name !== 'alpha') {
      unknown.push(name);
    }
  }
  if (unknown.length > 0) {
    throw new ApiError(
      'validation_failed',
      `Unknown query parameter ${unknown.map((u) => `"${u}"`).join(', ')}; use alpha and ` +
        `baseline.<filter> or candidate.<filter> with a filter of ${FILTER_NAMES.join(', ')}.`,
      unknown.map((field) => ({ field, message: `${field} is not a parameter of compare` })),
    );
  }
  const alpha = query.alpha === undefined ? DEFAULT_ALPHA : parseAlpha(query.alpha);
  const [baseline, candidate] = await Promise.all(
    GROUPS.map(async (group) => {
      try {
        const dto = (await pipe.transform(groups[group], {
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
  return { baseline, candidate, alpha };
}
