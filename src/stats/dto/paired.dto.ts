import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

export const PAIRED_METHODS = [
  'mcnemar_exact',
  'paired_t',
  'wilcoxon_signed_rank',
  'bowker',
] as const;
export type PairedMethod = (typeof PAIRED_METHODS)[number];

@ApiSchema({
  name: 'ComparisonPairs',
  description:
    'Cases both groups evaluated, by how the candidate moved (categorical: changed or not).',
})
export class PairsDto {
  @ApiProperty({ type: 'integer' })
  n!: number;

  @ApiPropertyOptional({
    type: 'integer',
    description: 'Not categorical: better by higher_is_better',
  })
  improved?: number;

  @ApiPropertyOptional({ type: 'integer', description: 'Not categorical: worse' })
  regressed?: number;

  @ApiPropertyOptional({ type: 'integer', description: 'categorical: another category' })
  changed?: number;

  @ApiProperty({ type: 'integer', description: 'Equal values in both groups' })
  unchanged!: number;
}

@ApiSchema({ name: 'PairedTest', description: 'The paired test; it decides the verdict.' })
export class PairedTestDto {
  @ApiProperty({
    enum: PAIRED_METHODS,
    description:
      "binary: McNemar's exact test; continuous: paired t; ordinal: Wilcoxon signed-rank on " +
      "category indexes; categorical: Bowker's test of symmetry",
  })
  method!: PairedMethod;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'mcnemar_exact: discordant cases where the candidate is higher; paired_t: t; ' +
      'wilcoxon_signed_rank: min(W+, W−); bowker: chi-square. null where the data leave it undefined',
  })
  statistic!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Two-sided' })
  p_value!: number | null;

  @ApiPropertyOptional({
    type: Number,
    description: 'paired_t and wilcoxon_signed_rank: mean of candidate − baseline over the cases',
  })
  estimate?: number;

  @ApiPropertyOptional({
    type: [Number],
    minItems: 2,
    maxItems: 2,
    description: 'paired_t: t interval of the mean difference, 95%',
  })
  ci95?: [number, number];
}

@ApiSchema({
  name: 'SignedRankTest',
  description: 'continuous: Wilcoxon signed-rank test beside the paired t (which decides).',
})
export class SignedRankTestDto {
  @ApiProperty({ enum: ['wilcoxon_signed_rank'] })
  method!: 'wilcoxon_signed_rank';

  @ApiProperty({ type: Number, nullable: true, description: 'min(W+, W−)' })
  statistic!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Two-sided' })
  p_value!: number | null;
}

@ApiSchema({ name: 'Regression', description: 'A case the candidate did worse on.' })
export class RegressionDto {
  @ApiProperty({
    description: "The case key, any JSON value: the runs' inputs, or the value of the metadata key",
    anyOf: [
      { type: 'object', additionalProperties: true },
      { type: 'array', items: {} },
      { type: 'string' },
      { type: 'number' },
      { type: 'boolean' },
      { enum: [null] },
    ],
  })
  case!: unknown;

  @ApiProperty({
    type: Number,
    description:
      "The case's value in the baseline: mean of its evaluations (categorical: the category index most evaluated)",
  })
  baseline!: number;

  @ApiProperty({ type: Number, description: "The case's value in the candidate" })
  candidate!: number;

  @ApiProperty({ type: Number, description: 'candidate − baseline' })
  difference!: number;

  @ApiProperty({ format: 'uuid', description: "Run of the case's latest baseline evaluation" })
  baseline_run_id!: string;

  @ApiProperty({ format: 'uuid', description: "Run of the case's latest candidate evaluation" })
  candidate_run_id!: string;
}
