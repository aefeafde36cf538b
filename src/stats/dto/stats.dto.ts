import {
  ApiProperty,
  ApiPropertyOptional,
  type ApiPropertyOptions,
  ApiSchema,
} from '@nestjs/swagger';
import { EvaluationLabelDto } from '../../evaluation-labels/dto/evaluation-label.dto.js';
import { ApiPropertyOrNull } from '../../openapi/decorators.js';
import { PairedTestDto, PairsDto, RegressionDto, SignedRankTestDto } from './paired.dto.js';

export const STATS_WARNINGS = ['mixed_label_versions'] as const;
export type StatsWarning = (typeof STATS_WARNINGS)[number];

export const interval = (what: string): ApiPropertyOptions => ({
  type: [Number],
  minItems: 2,
  maxItems: 2,
  nullable: true,
  description: `${what}: [low, high], 95%`,
});

const byCategory = (what: string): ApiPropertyOptions => ({
  type: 'object',
  additionalProperties: { type: 'number', nullable: true },
  description: `${what}, every category by name (zeros included)`,
});

@ApiSchema({ name: 'HistogramBin' })
export class HistogramBinDto {
  @ApiProperty({ description: 'Where the bin starts (included)' })
  from!: number;

  @ApiProperty({
    description: 'Where it ends: excluded, except by the last bin, which holds max_value',
  })
  to!: number;

  @ApiProperty({ type: 'integer', description: 'How many values lie in it' })
  n!: number;
}

@ApiSchema({ name: 'Histogram' })
export class HistogramDto {
  @ApiProperty({
    type: [HistogramBinDto],
    description: "Equal bins of the label's [min_value, max_value], in order",
  })
  bins!: HistogramBinDto[];

  @ApiProperty({
    type: 'integer',
    description: 'Values outside the current range (written under an earlier version of the label)',
  })
  outside!: number;
}

@ApiSchema({
  name: 'StatsFigures',
  description:
    'The figures of one set of evaluations, by the label value type. binary: rate, ci95. ' +
    'continuous: mean, stddev, min, max, p50, p90, ci95 (and in /stats a histogram). ordinal: counts, median, ' +
    'mean_index. categorical: counts, shares. A figure the data cannot give (no ' +
    'evaluations; one, where it needs two) is null.',
})
export class FiguresDto {
  @ApiProperty({ type: 'integer', description: 'How many evaluations' })
  n!: number;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'binary: share of 1s' })
  rate?: number | null;

  @ApiPropertyOptional(
    interval('binary: Wilson score interval of the rate; continuous: t interval of the mean'),
  )
  ci95?: [number, number] | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'continuous' })
  mean?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'continuous: sample standard deviation (n − 1)',
  })
  stddev?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'continuous' })
  min?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'continuous' })
  max?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'continuous: median, linear interpolation',
  })
  p50?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'continuous: 90th percentile, linear interpolation',
  })
  p90?: number | null;

  @ApiPropertyOptional({
    type: HistogramDto,
    description: 'continuous, in /stats and run summaries: counts per bin of the label’s range',
  })
  histogram?: HistogramDto;

  @ApiPropertyOptional(byCategory('ordinal and categorical: evaluations per category'))
  counts?: Record<string, number>;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'ordinal: the median category (the lower one when it falls between two)',
  })
  median?: string | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'ordinal: mean of the 0-based category indexes',
  })
  mean_index?: number | null;

  @ApiPropertyOptional(byCategory('categorical: share of the evaluations per category'))
  shares?: Record<string, number | null>;

  @ApiProperty({
    type: 'array',
    items: { type: 'integer', minimum: 1 },
    description: 'The label versions of these evaluations, ascending (empty when there are none)',
  })
  label_versions!: number[];

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...STATS_WARNINGS] },
    description:
      'mixed_label_versions: these evaluations were checked against different versions of ' +
      'the label’s scale, so one figure mixes scales; filter or group by label_version',
  })
  warnings!: StatsWarning[];
}

@ApiSchema({ name: 'StatsGroup', description: 'The figures of one group and time bucket.' })
export class StatsGroupDto extends FiguresDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { anyOf: [{ type: 'string' }, { type: 'integer' }, { enum: [null] }] },
    example: { workflow: 'support-triage', label_version: 2 },
    description:
      'The group_by keys and their values ({} without group_by): label_version a number, ' +
      'the others text or null',
  })
  key!: Record<string, string | number | null>;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Start of the UTC time bucket; null without interval',
  })
  bucket!: string | null;
}

@ApiSchema({ name: 'LabelStats', description: 'Statistics of one label.' })
export class LabelStatsDto {
  @ApiProperty({ type: EvaluationLabelDto })
  label!: EvaluationLabelDto;

  @ApiProperty({
    type: [StatsGroupDto],
    description:
      'Ordered by key, then bucket. Without group_by and interval: exactly one group, even ' +
      'over no evaluations.',
  })
  groups!: StatsGroupDto[];
}

@ApiSchema({ name: 'LabelSummary', description: 'The figures of one label on one run.' })
export class LabelSummaryDto extends FiguresDto {
  @ApiProperty({ type: EvaluationLabelDto })
  label!: EvaluationLabelDto;
}

@ApiSchema({ name: 'RunEvaluationsSummary', description: 'Per label, the evaluations of one run.' })
export class RunSummaryDto {
  @ApiProperty({ format: 'uuid' })
  run_id!: string;

  @ApiProperty({
    type: [LabelSummaryDto],
    description: 'Every label the run has evaluations of, oldest label first',
  })
  labels!: LabelSummaryDto[];
}

export const TEST_METHODS = [
  'two_proportion_z',
  'welch_t',
  'mann_whitney_u',
  'pearson_chi_square',
] as const;
export type TestMethod = (typeof TEST_METHODS)[number];

export const VERDICTS = [
  'improved',
  'regressed',
  'changed',
  'no_detectable_change',
  'insufficient_data',
] as const;
export type Verdict = (typeof VERDICTS)[number];

@ApiSchema({ name: 'ComparisonDifference', description: 'Candidate minus baseline.' })
export class DifferenceDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'binary: difference of rates; continuous: of means; ordinal: of mean indexes; ' +
      'categorical: null (no single number)',
  })
  estimate!: number | null;

  @ApiProperty(
    interval(
      "binary: Newcombe's hybrid score interval; continuous and ordinal: Welch interval " +
        '(ordinal: of the indexes); categorical: null',
    ),
  )
  ci95!: [number, number] | null;
}

@ApiSchema({ name: 'ComparisonTest', description: 'The test of the two groups.' })
export class TestDto {
  @ApiProperty({ enum: TEST_METHODS })
  method!: TestMethod;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'z, Welch t, U of the candidate, or chi-square; null where no spread leaves it undefined',
  })
  statistic!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Two-sided' })
  p_value!: number | null;
}

@ApiSchema({ name: 'Comparison', description: 'A baseline and a candidate group compared.' })
export class ComparisonDto {
  @ApiProperty({ type: EvaluationLabelDto })
  label!: EvaluationLabelDto;

  @ApiProperty({ description: 'Significance level of the verdict' })
  alpha!: number;

  @ApiProperty({ type: FiguresDto })
  baseline!: FiguresDto;

  @ApiProperty({ type: FiguresDto })
  candidate!: FiguresDto;

  @ApiPropertyOrNull(DifferenceDto, { description: 'null: insufficient data' })
  difference!: DifferenceDto | null;

  @ApiPropertyOrNull(TestDto, { description: 'null: insufficient data' })
  test!: TestDto | null;

  @ApiProperty({
    enum: VERDICTS,
    description:
      'p_value < alpha: improved or regressed by the label higher_is_better (categorical: ' +
      'changed); else no_detectable_change; insufficient_data when a group is too small ' +
      '(no evaluations; continuous: fewer than two). With pair_by, from paired_test and ' +
      'the cases: insufficient_data with no case (continuous: fewer than two).',
  })
  verdict!: Verdict;

  @ApiPropertyOptional({
    type: String,
    example: 'metadata.case_id',
    description: 'With pair_by only: how runs were paired into cases',
  })
  pair_by?: string;

  @ApiPropertyOptional({ type: PairsDto, description: 'With pair_by only' })
  pairs?: PairsDto;

  @ApiPropertyOrNull(PairedTestDto, {
    required: false,
    description: 'With pair_by only; null: insufficient data',
  })
  paired_test?: PairedTestDto | null;

  @ApiPropertyOrNull(SignedRankTestDto, {
    required: false,
    description: 'With pair_by, continuous labels only; null: insufficient data',
  })
  signed_rank_test?: SignedRankTestDto | null;

  @ApiPropertyOptional({
    type: [RegressionDto],
    description:
      'With pair_by only: the cases with the largest drop, worst first, at most ' +
      'regressions_limit (categorical: the changed cases, by case key)',
  })
  regressions?: RegressionDto[];
}
