import { describe, expect, it } from '@jest/globals';
import { negotiate } from './accept.js';
import { ApiError } from './api-error.js';

const LIST = ['application/json', 'application/x-ndjson', 'text/csv'] as const;
const EVENTS = ['application/json', 'text/event-stream'] as const;

describe('negotiate', () => {
  it.each([
    [undefined, 'application/json'],
    ['', 'application/json'],
    ['*/*', 'application/json'],
    ['text/csv', 'text/csv'],
    ['TEXT/CSV; charset=utf-8', 'text/csv'],
    ['application/x-ndjson', 'application/x-ndjson'],
    ['text/csv, application/json', 'application/json'],
    ['text/csv;q=0.9, application/json;q=0.5', 'text/csv'],
    ['application/json;q=0.5, text/csv;q=0.9', 'text/csv'],
    ['text/csv, */*;q=0.1', 'text/csv'],
    ['text/*', 'text/csv'],
    ['text/*;q=0.5, application/*;q=0.4', 'text/csv'],
    ['*/*;q=0.5, application/json;q=0', 'application/x-ndjson'],
    ['text/csv;q=0.1, text/csv', 'text/csv'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'application/json'],
    ['garbage, text/csv', 'text/csv'],
    ['text/csv;q=2, application/x-ndjson', 'application/x-ndjson'],
  ])('%j over the list → %s', (accept, type) => {
    expect(negotiate(accept, LIST)).toBe(type);
  });

  it.each([
    ['*/*', 'application/json'],
    [undefined, 'application/json'],
    ['text/event-stream', 'text/event-stream'],
    ['application/json', 'application/json'],
    ['text/event-stream, application/json;q=0.9', 'text/event-stream'],
  ])('%j over events → %s', (accept, type) => {
    expect(negotiate(accept, EVENTS)).toBe(type);
  });

  it.each([
    'text/html',
    'application/json;q=0',
    'text/csv;q=0, application/json;q=0, application/x-ndjson;q=0.000',
    '*/*;q=0',
    'garbage',
    ';;;',
    '*/csv',
  ])('%j allows none: 406 naming what is offered', (accept) => {
    let error: unknown;
    try {
      negotiate(accept, LIST);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(406);
    expect((error as ApiError).message).toContain(
      'application/json, application/x-ndjson, text/csv',
    );
  });
});
