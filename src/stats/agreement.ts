import type { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import type { AgreementFiguresDto } from './dto/agreement.dto.js';
import {
  cohenKappa,
  fisherInterval,
  identityWeights,
  quadraticWeights,
  spearmanOfTable,
} from './inference.js';

type Label = Pick<EvaluationLabelEntity, 'valueType' | 'categories'>;

/** Bland–Altman's limits of agreement: the mean difference ± 1.96 standard deviations. */
export const LIMITS_OF_AGREEMENT_Z = 1.96;

/** What PostgreSQL reduced the pairs to (see agreementSql). */
export interface AgreementAggregate {
  n: number;
  /** Discrete labels: [a's category index, b's, pairs]. */
  confusion?: [number, number, number][];
  r?: number | null;
  rho?: number | null;
  mae?: number | null;
  rmse?: number | null;
  mean_difference?: number | null;
  sd_difference?: number | null;
  /** The label versions of the paired evaluations, ascending. */
  versions?: number[];
}

/** The categories of a discrete label, binary's being "0" and "1". */
export const categoriesOf = (label: Label): string[] =>
  label.valueType === 'binary' ? ['0', '1'] : (label.categories ?? []);

/**
 * A k × k table of counts from [row, column, count] triples. A value outside the label's
 * current categories (one stored under an earlier definition of the label) has no cell and
 * is left out.
 */
export function tableOf(k: number, cells: [number, number, number][] = []): number[][] {
  const table = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const inside = (i: number) => Number.isInteger(i) && i >= 0 && i < k;
  for (const [i, j, n] of cells) if (inside(i) && inside(j)) table[i][j] += n;
  return table;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * The figures of §15 from the aggregate: fewer than two pairs give nulls (the confusion
 * counts excepted), and so does a figure the data leave undefined.
 */
export function agreementFigures(label: Label, a: AgreementAggregate): AgreementFiguresDto {
  const label_versions = a.versions ?? [];
  const warnings = label_versions.length > 1 ? ['mixed_label_versions' as const] : [];
  return { ...typedAgreement(label, a), label_versions, warnings };
}

/** The figures of the label's value type. */
function typedAgreement(
  label: Label,
  a: AgreementAggregate,
): Omit<AgreementFiguresDto, 'label_versions' | 'warnings'> {
  const n = a.n;
  const enough = n >= 2;
  if (label.valueType === 'continuous') {
    const r = enough ? num(a.r) : null;
    const mean = enough ? num(a.mean_difference) : null;
    const sd = enough ? num(a.sd_difference) : null;
    return {
      n_pairs: n,
      r: { estimate: r, ci95: r === null ? null : fisherInterval(r, n) },
      rho: enough ? num(a.rho) : null,
      mae: enough ? num(a.mae) : null,
      rmse: enough ? num(a.rmse) : null,
      mean_difference: mean,
      limits_of_agreement:
        mean === null || sd === null
          ? null
          : [mean - LIMITS_OF_AGREEMENT_Z * sd, mean + LIMITS_OF_AGREEMENT_Z * sd],
    };
  }
  const categories = categoriesOf(label);
  const table = tableOf(categories.length, a.confusion);
  const agreed = table.reduce((sum, row, i) => sum + row[i], 0);
  const counted = table.flat().reduce((sum, c) => sum + c, 0);
  const ordinal = label.valueType === 'ordinal';
  const weights = ordinal ? 'quadratic' : 'none';
  const kappa = enough
    ? cohenKappa(table, (ordinal ? quadraticWeights : identityWeights)(categories.length))
    : { value: null, ci95: null };
  return {
    n_pairs: n,
    confusion: { categories, counts: table },
    percent_agreement: enough && counted > 0 ? agreed / counted : null,
    kappa: { estimate: kappa.value, ci95: kappa.ci95, weights },
    ...(ordinal ? { rho: enough ? spearmanOfTable(table) : null } : {}),
  };
}
