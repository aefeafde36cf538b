import type { Figures, Label } from './api.js';

/** The headline of a label's figures (PRODUCT §16): what one number says about it. */
export interface Headline {
  /** The figure's name in the API's answer. */
  field: 'rate' | 'mean' | 'median' | 'mode';
  /** A number (rate, mean) or a category (median, mode). */
  value: number | string | null;
  ci95?: readonly number[] | null;
}

/** The most frequent category; ties go to the first in the label's own order. */
export function modeOf(label: Label, counts: Record<string, number> | undefined): string | null {
  let best: string | null = null;
  for (const c of label.categories ?? []) {
    const n = counts?.[c] ?? 0;
    if (n > 0 && (best === null || n > (counts?.[best] ?? 0))) best = c;
  }
  return best;
}

export function headline(label: Label, f: Partial<Figures>): Headline {
  switch (label.value_type) {
    case 'binary':
      return { field: 'rate', value: f.rate ?? null, ci95: f.ci95 };
    case 'continuous':
      return { field: 'mean', value: f.mean ?? null, ci95: f.ci95 };
    case 'ordinal':
      return { field: 'median', value: f.median ?? null };
    default:
      return { field: 'mode', value: modeOf(label, f.counts as Record<string, number>) };
  }
}

export const HEADLINE_NAME: Record<string, string> = {
  binary: 'rate',
  continuous: 'mean',
  ordinal: 'median',
  categorical: 'mode',
};

/** Verdicts in words and a sign, so that colour is never the only mark of better or worse. */
export const VERDICTS: Record<string, { sign: string; text: string; tone: string }> = {
  improved: { sign: '▲', text: 'improved', tone: 'good' },
  regressed: { sign: '▼', text: 'regressed', tone: 'bad' },
  changed: { sign: '◆', text: 'changed', tone: 'neutral' },
  no_detectable_change: { sign: '●', text: 'no detectable change', tone: 'neutral' },
  insufficient_data: { sign: '○', text: 'insufficient data', tone: 'neutral' },
};
