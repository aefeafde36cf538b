import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { EvaluationLabelDto } from '../../evaluation-labels/dto/evaluation-label.dto.js';
import { interval, STATS_WARNINGS, type StatsWarning } from './stats.dto.js';

@ApiSchema({
  name: 'ConfusionMatrix',
  description: "Pairs by a's category (rows) and b's (columns), every category of the label.",
})
export class ConfusionDto {
  @ApiProperty({
    type: [String],
    description: 'The categories in order; binary: "0" and "1"',
  })
  categories!: string[];

  @ApiProperty({
    type: 'array',
    items: { type: 'array', items: { type: 'integer' } },
    description: 'counts[i][j]: pairs where a chose categories[i] and b categories[j]',
  })
  counts!: number[][];
}

@ApiSchema({ name: 'Kappa', description: "Cohen's kappa and its interval." })
export class KappaDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'null with fewer than two pairs, or when chance alone explains every pair (p_e = 1)',
  })
  estimate!: number | null;

  @ApiProperty(
    interval(
      'kappa ± z(0.975) × the large-sample standard error of Fleiss, Cohen & Everitt (1969)',
    ),
  )
  ci95!: [number, number] | null;

  @ApiProperty({
    enum: ['none', 'quadratic'],
    description: 'none: binary and categorical; quadratic: ordinal, 1 − (i − j)² / (k − 1)²',
  })
  weights!: 'none' | 'quadratic';
}

@ApiSchema({ name: 'Correlation', description: "Pearson's r and its interval." })
export class CorrelationDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'null with fewer than two pairs, or when a side has no spread',
  })
  estimate!: number | null;

  @ApiProperty(interval("Fisher's z interval; null with fewer than four pairs"))
  ci95!: [number, number] | null;
}

@ApiSchema({
  name: 'AgreementFigures',
  description:
    'How two groups of evaluations of the same targets agree, by the label value type. ' +
    'binary and categorical: confusion, percent_agreement, kappa; ordinal: the same with ' +
    'quadratic weights, and rho; continuous: r, rho, mae, rmse, mean_difference, ' +
    'limits_of_agreement. Differences are b − a. Fewer than two pairs: figures null.',
})
export class AgreementFiguresDto {
  @ApiProperty({
    type: 'integer',
    description:
      'Targets (run, output_name, field_path) both groups evaluated; each side counts its latest evaluation',
  })
  n_pairs!: number;

  @ApiPropertyOptional({ type: ConfusionDto, description: 'binary, categorical, ordinal' })
  confusion?: ConfusionDto;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'binary, categorical, ordinal: share of pairs on the same category, 0–1',
  })
  percent_agreement?: number | null;

  @ApiPropertyOptional({ type: KappaDto, description: 'binary, categorical, ordinal' })
  kappa?: KappaDto;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: "ordinal and continuous: Spearman's rho (midranks for ties)",
  })
  rho?: number | null;

  @ApiPropertyOptional({ type: CorrelationDto, description: "continuous: Pearson's r" })
  r?: CorrelationDto;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'continuous: mean absolute difference',
  })
  mae?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'continuous: root mean square difference',
  })
  rmse?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    description: 'continuous: mean of b − a',
  })
  mean_difference?: number | null;

  @ApiPropertyOptional(
    interval('continuous: Bland–Altman limits of agreement, mean_difference ± 1.96 × sd of b − a'),
  )
  limits_of_agreement?: [number, number] | null;

  @ApiProperty({
    type: [Number],
    description:
      'The label versions of the paired evaluations, both sides, ascending (empty without pairs)',
  })
  label_versions!: number[];

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...STATS_WARNINGS] },
    description:
      'mixed_label_versions: the pairs hold evaluations checked against different versions ' +
      'of the label’s scale; filter a and b by label_version',
  })
  warnings!: StatsWarning[];
}

@ApiSchema({ name: 'Agreement', description: 'The agreement of groups a and b on one label.' })
export class AgreementDto extends AgreementFiguresDto {
  @ApiProperty({ type: EvaluationLabelDto })
  label!: EvaluationLabelDto;
}
