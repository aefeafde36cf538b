import { ApiError } from './api-error.js';
import { unicodeProblem } from './text.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const PLAIN = /^[\x20-\x24\x26-\x7e]*$/;

/**
 * One name or value of a query string as the bytes it stands for, then as UTF-8 text; an
 * error message when it is not text. Fastify's own decoding keeps an escape it cannot decode
 * as the literal `%XX` (and so would a filter search for it), hence this stricter reading.
 */
function decode(part: string): { text: string } | { problem: string } {
  const bytes: number[] = [];
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hex = part.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/i.test(hex)) {
        return {
          problem: 'holds a malformed percent-encoding (a % not followed by two hex digits)',
        };
      }
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(c === 0x2b /* + */ ? 0x20 : c & 0xff);
    }
  }
  try {
    return { text: utf8.decode(Uint8Array.from(bytes)) };
  } catch {
    return {
      problem: 'is not valid UTF-8 text (bytes that are no character, or a lone surrogate)',
    };
  }
}

/**
 * Refuses a query string whose names or values are not text PostgreSQL can compare: a
 * malformed percent-encoding, bytes that are not UTF-8 (a lone surrogate among them), or a
 * NUL. The error names the parameter.
 */
export function checkQueryString(query: string): void {
  // Printable ASCII with no escape is text as it stands: most query strings, at no cost.
  if (PLAIN.test(query)) return;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = decode(rawName);
    const field = ('text' in name ? name.text : rawName).slice(0, 100);
    for (const part of eq < 0 ? [name] : [name, decode(pair.slice(eq + 1))]) {
      const problem = 'text' in part ? unicodeProblem(part.text) : part.problem;
      if (problem === undefined) continue;
      const message = `${part === name ? 'the name' : 'the value'} ${problem}`;
      throw new ApiError('invalid_text', `The query parameter ${field}: ${message}.`, [
        { field, message },
      ]);
    }
  }
}
