import { expect } from '@jest/globals';
import type { Response } from 'supertest';

/** A 400 with the one error body, its details naming `field`. */
export function expectValidationFailed(res: Response, field: string): void {
  expect(res.status).toBe(400);
  expect(res.body).toEqual({
    error: expect.any(String),
    code: 'validation_failed',
    details: expect.arrayContaining([expect.objectContaining({ field })]),
    request_id: expect.any(String),
  });
}
