import { ApiError } from './api-error.js';

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** The media ranges of an Accept header; members that are not `type/subtype` are left out. */
function mediaRanges(accept: string): MediaRange[] {
  return accept.split(',').flatMap((member) => {
    const [range, ...params] = member.split(';').map((p) => p.trim().toLowerCase());
    const [type, subtype, ...more] = range.split('/');
    if (more.length || !TOKEN.test(type ?? '') || !TOKEN.test(subtype ?? '')) return [];
    if (type === '*' && subtype !== '*') return [];
    const q = params.find((p) => /^q\s*=/.test(p))?.replace(/^q\s*=\s*/, '') ?? '1';
    return QVALUE.test(q) ? [{ type, subtype, q: Number(q) }] : [];
  });
}

/** How acceptable one media type is: the q of the most specific range that matches it. */
function qualityOf(offered: string, ranges: MediaRange[]): number {
  const [type, subtype] = offered.split('/');
  const specificity = (r: MediaRange) =>
    r.type === '*'
      ? 0
      : r.type !== type
        ? -1
        : r.subtype === '*'
          ? 1
          : r.subtype === subtype
            ? 2
            : -1;
  let best = { specificity: -1, q: 0 };
  for (const range of ranges) {
    const s = specificity(range);
    if (s < 0 || s < best.specificity) continue;
    // Of two equally specific ranges (text/csv;q=0.1, text/csv), the more generous counts.
    if (s > best.specificity || range.q > best.q) best = { specificity: s, q: range.q };
  }
  return best.q;
}

/**
 * The media type to answer in, negotiated with the Accept header's q-values (RFC 9110
 * §12.5.1): the offered type of the highest q, the first offered on a tie; no header, or an
 * empty one, accepts any. An Accept that allows none of them (q=0 is "not acceptable") is
 * a 406 that names what is offered.
 */
export function negotiate<T extends string>(accept: string | undefined, offered: readonly T[]): T {
  if (accept === undefined || accept.trim() === '') return offered[0];
  const ranges = mediaRanges(accept);
  let chosen: T | undefined;
  let top = 0;
  for (const type of offered) {
    const q = qualityOf(type, ranges);
    if (q > top) [chosen, top] = [type, q];
  }
  if (chosen !== undefined) return chosen;
  throw new ApiError(
    'not_acceptable',
    `The Accept header allows none of the media types this route answers in: ${offered.join(', ')}.`,
    [{ field: 'Accept', message: `must allow one of ${offered.join(', ')}` }],
  );
}
