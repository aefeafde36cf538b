import { describe, expect, it } from '@jest/globals';
import { HttpException, NotFoundException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { ApiError } from './api-error.js';
import { toErrorResponse } from './error-response.js';

const fastifyError = (code: string, statusCode: number) =>
  Object.assign(new Error(code), { code, statusCode });

describe('toErrorResponse', () => {
  it('keeps an ApiError as it is, with its details', () => {
    const r = toErrorResponse(
      new ApiError('value_out_of_range', 'Too big.', [{ field: 'value', message: 'm' }]),
      'r1',
    );
    expect(r).toMatchObject({
      status: 422,
      body: {
        error: 'Too big.',
        code: 'value_out_of_range',
        details: [{ field: 'value', message: 'm' }],
        request_id: 'r1',
      },
    });
    expect(r.internal).toBeUndefined();
  });

  it("reads Fastify's code also when Nest wrapped the error", () => {
    const wrapped = new HttpException('Unsupported', 415, {
      cause: fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415),
    });
    expect(toErrorResponse(wrapped, 'r').body.code).toBe('unsupported_media_type');
    expect(toErrorResponse(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413), 'r').status).toBe(413);
  });

  it('answers 401 with WWW-Authenticate and an unknown route with route_not_found', () => {
    expect(toErrorResponse(new ApiError('unauthorized', 'No.'), 'r').headers).toEqual({
      'WWW-Authenticate': 'Bearer',
    });
    const r = toErrorResponse(new NotFoundException('Cannot GET /x'), 'r');
    expect(r.body).toMatchObject({ code: 'route_not_found', error: 'There is no route GET /x.' });
  });

  it('answers 503 when the database is unreachable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    const terminated = new QueryFailedError(
      'SELECT 1',
      [],
      Object.assign(new Error('terminating'), { code: '57P01' }),
    );
    for (const err of [refused, terminated, new Error('Connection terminated unexpectedly')]) {
      expect(toErrorResponse(err, 'r')).toMatchObject({
        status: 503,
        body: { code: 'database_unavailable' },
      });
    }
  });

  it('tells a full pool and a cancelled statement apart from an unreachable database', () => {
    const full = Object.assign(new Error('timeout exceeded when trying to connect'), {
      connections: 32,
    });
    const cancelled = (code: string) =>
      new QueryFailedError('SELECT 1', [], Object.assign(new Error('canceling'), { code }));
    const cases = [
      [full, 'database_busy', 'All 32 database connections are busy'],
      [cancelled('57014'), 'database_timeout', 'took too long'],
      [cancelled('55P03'), 'database_timeout', 'took too long'],
      [new Error('Connection terminated due to connection timeout'), 'database_unavailable', ''],
    ] as const;
    for (const [err, code, words] of cases) {
      const r = toErrorResponse(err, 'r');
      expect(r).toMatchObject({ status: 503, body: { code }, database: code });
      expect(r.body.error).toContain(words);
      expect(r.headers['Retry-After']).toMatch(/^\d+$/);
    }
  });

  it('answers anything else with a 500 that leaks nothing, and hands the cause to the log', () => {
    const boom = new Error('secret table name in here');
    const r = toErrorResponse(boom, 'r');
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toContain('secret');
    expect(r.internal).toBe(boom);
  });
});
