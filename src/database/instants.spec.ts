import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { shownInstant } from './instants.js';

describe('shownInstant', () => {
  it('shows every Date as JSON does, whether it repeats the last one or not', () => {
    const instants = fc.date({ noInvalidDate: true });
    fc.assert(
      fc.property(fc.array(fc.tuple(instants, fc.boolean()), { maxLength: 20 }), (dates) => {
        let last: Date | undefined;
        for (const [date, repeat] of dates) {
          // A new Date of the same instant now and then, as rows of one batch have.
          const at = repeat && last ? new Date(last.getTime()) : date;
          expect(shownInstant(at)).toBe(JSON.parse(JSON.stringify(at)));
          last = at;
        }
      }),
    );
  });
});
