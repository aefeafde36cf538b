import { FunctionExpressionType, type FilterFunction, jsonpath } from 'json-p3';
import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';

/**
 * RFC 9535's match() and search() on a linear-time engine (RE2), so that no pattern can
 * backtrack for minutes. The pattern is an I-Regexp (RFC 9485): json-p3's own check decides
 * whether it is one (run on the empty string, where even a pathological pattern is instant),
 * then it is translated to RE2's syntax: outside a class, `.` is any character but CR and
 * LF, and `^` and `$` are plain characters.
 */
function toRe2(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      out += ch + (pattern[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
    } else if (ch === '[') {
      inClass = true;
      out += ch;
    } else if (ch === '.') {
      out += '[^\\n\\r]';
    } else if (ch === '^' || ch === '$') {
      out += `\\${ch}`;
    } else {
      out += ch;
    }
  }
  return out;
}

const iRegexp = new jsonpath.functions.Match({ throwErrors: true, cacheSize: 0 });

/** Compiled patterns; null for one that is not a valid I-Regexp (it never matches). */
const compiled = new LRUCache<string, { re: RE2JS } | { re: null }>({ max: 100 });

function compile(pattern: string): RE2JS | null {
  let entry = compiled.get(pattern);
  if (!entry) {
    try {
      iRegexp.call('', pattern);
      entry = { re: RE2JS.compile(toRe2(pattern)) };
    } catch {
      entry = { re: null };
    }
    compiled.set(pattern, entry);
  }
  return entry.re;
}

/**
 * `charge` is told how much work a match is about to do (the text's length times the
 * pattern's), so that the caller can refuse a query that would do too much.
 */
export function regexFunctions(charge: (work: number) => void): Record<string, FilterFunction> {
  const fn = (test: (re: RE2JS, text: string) => boolean): FilterFunction => ({
    argTypes: [FunctionExpressionType.ValueType, FunctionExpressionType.ValueType],
    returnType: FunctionExpressionType.LogicalType,
    call: (text: unknown, pattern: unknown) => {
      if (typeof text !== 'string' || typeof pattern !== 'string') return false;
      const re = compile(pattern);
      if (!re) return false;
      charge(text.length * Math.max(1, pattern.length));
      return test(re, text);
    },
  });
  return {
    match: fn((re, text) => re.matches(text)),
    search: fn((re, text) => re.matcher(text).find()),
  };
}
