import { answered, api, type Label, type Schemas } from '../api.js';
import { useLoad } from '../load.js';

/** The cursor of the next page, from the answer's `Link: <…?cursor=…>; rel="next"`. */
export function nextCursor(response: Response): string | undefined {
  const link = response.headers.get('Link')?.match(/<([^>]*)>;\s*rel="next"/)?.[1];
  return link
    ? (new URL(link, location.origin).searchParams.get('cursor') ?? undefined)
    : undefined;
}

/** Every item of a paged list, following its Link header page by page. */
export async function all<T>(
  page: (cursor?: string) => Promise<{ data?: T[]; response: Response }>,
): Promise<T[]> {
  const items: T[] = [];
  for (let cursor: string | undefined; ;) {
    const { data, response } = await answered(page(cursor));
    items.push(...data);
    cursor = nextCursor(response);
    if (!cursor) return items;
  }
}

/** Every item of a list whose pages say where the next starts (`{items, next}`). */
export async function everyPage<T>(
  page: (cursor?: string) => Promise<{ items: T[]; next?: string | null }>,
): Promise<T[]> {
  const items: T[] = [];
  for (let cursor: string | undefined; ;) {
    const got = await page(cursor);
    items.push(...got.items);
    if (!got.next) return items;
    cursor = got.next;
  }
}

export const allLabels = () =>
  all<Label>((cursor) => api.GET('/v1/evaluation-labels', { params: { query: { cursor } } }));

export const allEvaluators = () =>
  all<Schemas['Evaluator']>((cursor) =>
    api.GET('/v1/evaluators', { params: { query: { cursor } } }),
  );

export function useLabels(): Label[] {
  return useLoad(allLabels, ['labels']).data ?? [];
}

export function useEvaluators(): Schemas['Evaluator'][] {
  return useLoad(allEvaluators, ['evaluators']).data ?? [];
}
