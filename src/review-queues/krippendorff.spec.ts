import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { type Coincidence, krippendorffAlpha } from './krippendorff.js';

const REFERENCE = JSON.parse(
  readFileSync(new URL('../../test/fixtures/krippendorff/reference.json', import.meta.url), 'utf8'),
) as { paper: Record<'nominal' | 'ordinal' | 'interval', number> };

/** Krippendorff (2011)'s worked example: coders A–D (rows) over units 1–12, null when missing. */
const PAPER = [
  [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
  [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
];

/** The coincidence matrix, built the way the database builds it. */
function coincidences(data: (number | null)[][]): Coincidence[] {
  const cells = new Map<string, Coincidence>();
  for (let unit = 0; unit < data[0].length; unit++) {
    const values = data.map((row) => row[unit]).filter((v): v is number => v !== null);
    if (values.length < 2) continue;
    values.forEach((c, i) =>
      values.forEach((k, j) => {
        if (i === j) return;
        const cell = cells.get(`${c} ${k}`) ?? { c, k, o: 0 };
        cell.o += 1 / (values.length - 1);
        cells.set(`${c} ${k}`, cell);
      }),
    );
  }
  return [...cells.values()];
}

describe("Krippendorff's alpha", () => {
  it("reproduces the paper's worked example under each metric", () => {
    const cells = coincidences(PAPER);
    for (const metric of ['nominal', 'ordinal', 'interval'] as const) {
      const alpha = krippendorffAlpha(cells, metric)!;
      expect(Math.abs(alpha - REFERENCE.paper[metric])).toBeLessThan(1e-12);
    }
    expect(krippendorffAlpha(cells, 'nominal')!.toFixed(3)).toBe('0.743');
    expect(krippendorffAlpha(cells, 'ordinal')!.toFixed(3)).toBe('0.815');
    expect(krippendorffAlpha(cells, 'interval')!.toFixed(3)).toBe('0.849');
  });

  it('is null where it is not defined, and 1 for perfect agreement', () => {
    expect(krippendorffAlpha([], 'nominal')).toBeNull();
    expect(
      krippendorffAlpha(
        coincidences([
          [1, 1],
          [1, 1],
        ]),
        'interval',
      ),
    ).toBeNull();
    expect(
      krippendorffAlpha(
        coincidences([
          [1, 2],
          [1, 2],
        ]),
        'ordinal',
      ),
    ).toBe(1);
  });
});
