import {
  ApiProperty,
  ApiPropertyOptional,
  ApiSchema,
  IntersectionType,
  OmitType,
  PickType,
} from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/paging.js';
import { UuidProperty } from '../../common/validation.js';
import { EvaluationLabelDto } from '../../evaluation-labels/dto/evaluation-label.dto.js';
import { ListEvaluationLabelsQueryDto } from '../../evaluation-labels/dto/create-evaluation-label.dto.js';
import { EvaluatorDto } from '../../evaluators/dto/evaluator.dto.js';
import { ApiPropertyOrNull } from '../../openapi/decorators.js';
import { INTERVALS, type Interval, StatsFiltersDto } from './stats-query.dto.js';
import { FiguresDto, interval, VERDICTS, type Verdict } from './stats.dto.js';

/** The width of the time buckets when `interval` is not given. */
export const DEFAULT_INTERVAL: Interval = 'day';

export class IntervalQueryDto {
  @ApiPropertyOptional({
    enum: INTERVALS,
    default: DEFAULT_INTERVAL,
    description: 'Width of the UTC time buckets (week: starting Monday)',
  })
  @IsOptional()
  @IsIn(INTERVALS, { message: `interval must be one of ${INTERVALS.join(', ')}` })
  interval?: Interval;
}

export class LabelOverviewQueryDto extends IntersectionType(
  PageQueryDto,
  ListEvaluationLabelsQueryDto,
  OmitType(StatsFiltersDto, ['label_version']),
  IntervalQueryDto,
) {}

export class EvaluatorStatsQueryDto extends IntersectionType(
  PageQueryDto,
  PickType(StatsFiltersDto, ['from', 'to']),
  IntervalQueryDto,
) {
  @UuidProperty({ required: false, description: 'Only evaluations of this label' })
  @IsOptional()
  evaluation_label_id?: string;
}

const nextCursor = () =>
  ApiProperty({
    type: String,
    nullable: true,
    description:
      'When more remain: the cursor of the next page (also in the `Link: <…>; rel="next"` ' +
      'header); null on the last page',
  });

@ApiSchema({
  name: 'Headline',
  description:
    'The headline figure of a label by its value type: binary rate, continuous mean, ' +
    'ordinal median, categorical mode; with its 95% interval where the type has one.',
})
export class HeadlineDto extends PickType(FiguresDto, ['rate', 'mean', 'median']) {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'categorical: the category evaluated most often (the first one among equals)',
  })
  mode?: string | null;

  @ApiProperty(
    interval(
      'binary: Wilson score interval; continuous: t interval of the mean; ordinal and ' +
        'categorical: always null',
    ),
  )
  ci95!: [number, number] | null;
}

@ApiSchema({ name: 'TrendBucket', description: 'The headline figure of one UTC time bucket.' })
export class TrendBucketDto extends HeadlineDto {
  @ApiProperty({ type: String, format: 'date-time', description: 'Start of the UTC bucket' })
  bucket!: string;

  @ApiProperty({ type: 'integer', description: 'How many evaluations' })
  n!: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'ordinal and categorical: evaluations per category, every category by name',
  })
  counts?: Record<string, number>;
}

@ApiSchema({ name: 'TimeRange', description: 'A half-open range of creation times, [from, to).' })
export class TimeRangeDto {
  @ApiProperty({ type: String, format: 'date-time' })
  from!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  to!: string;
}

@ApiSchema({
  name: 'Direction',
  description:
    'The latest bucket (candidate) against the earlier part of the window (baseline), ' +
    'compared as /compare does at alpha 0.05: /compare with baseline.from, baseline.to, ' +
    'candidate.from and candidate.to set to these ranges (and the same other filters on ' +
    'both sides) answers the same verdict and p_value.',
})
export class DirectionDto {
  @ApiProperty({ enum: VERDICTS })
  verdict!: Verdict;

  @ApiProperty({ type: Number, nullable: true, description: 'Two-sided, of the /compare test' })
  p_value!: number | null;

  @ApiPropertyOrNull(TimeRangeDto, {
    description: 'From the window start to the latest bucket; null when that holds no instant',
  })
  baseline!: TimeRangeDto | null;

  @ApiPropertyOrNull(TimeRangeDto, {
    description: 'From the latest bucket to the window end; null without evaluations',
  })
  candidate!: TimeRangeDto | null;
}

@ApiSchema({
  name: 'LabelOverview',
  description: 'One label with its figures, trend and direction.',
})
export class LabelOverviewDto {
  @ApiProperty({ type: EvaluationLabelDto })
  label!: EvaluationLabelDto;

  @ApiProperty({
    type: FiguresDto,
    description: 'Exactly the one group /stats answers for this label and these filters',
  })
  figures!: FiguresDto;

  @ApiProperty({ type: HeadlineDto })
  headline!: HeadlineDto;

  @ApiProperty({
    type: [TrendBucketDto],
    description:
      'Per UTC bucket holding evaluations, oldest first: what /stats with interval answers',
  })
  trend!: TrendBucketDto[];

  @ApiProperty({ type: DirectionDto })
  direction!: DirectionDto;
}

@ApiSchema({ name: 'LabelOverviewPage', description: 'A page of labels with their figures.' })
export class LabelOverviewPageDto {
  @ApiProperty({ type: [LabelOverviewDto], description: 'Labels oldest first' })
  items!: LabelOverviewDto[];

  @nextCursor()
  next!: string | null;
}

@ApiSchema({ name: 'VolumeBucket', description: 'Evaluations created in one UTC time bucket.' })
export class VolumeBucketDto {
  @ApiProperty({ type: String, format: 'date-time', description: 'Start of the UTC bucket' })
  bucket!: string;

  @ApiProperty({ type: 'integer' })
  n!: number;
}

@ApiSchema({
  name: 'ChangedByPeople',
  description:
    'Of the evaluations the evaluator created in the window, current or deleted since, ' +
    'how many a person (a user token) later updated or deleted; each counts once.',
})
export class ChangedDto {
  @ApiProperty({
    type: 'integer',
    description:
      'Evaluations it created in the window, deleted ones included (with evaluation_label_id: ' +
      'current ones only, since a deleted evaluation’s history does not name its label)',
  })
  n!: number;

  @ApiProperty({ type: 'integer', description: 'Of those, updated or deleted by a person' })
  changed!: number;

  @ApiProperty({ type: Number, nullable: true, description: 'changed / n; null when n is 0' })
  share!: number | null;
}

@ApiSchema({
  name: 'EvaluationLag',
  description:
    "Seconds from the run's created_at to the evaluation's created_at; nulls without " +
    'evaluations. p50 and p90 by linear interpolation.',
})
export class LagDto {
  @ApiProperty({ type: Number, nullable: true })
  p50!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  p90!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  max!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  mean!: number | null;
}

@ApiSchema({ name: 'EvaluatorStats', description: 'What one evaluator did in the window.' })
export class EvaluatorStatsDto {
  @ApiProperty({ type: EvaluatorDto })
  evaluator!: EvaluatorDto;

  @ApiProperty({ type: 'integer', description: 'Its current evaluations created in the window' })
  n!: number;

  @ApiProperty({
    type: [VolumeBucketDto],
    description: 'Those evaluations per UTC bucket holding any, oldest first',
  })
  volume!: VolumeBucketDto[];

  @ApiProperty({ type: ChangedDto })
  changed!: ChangedDto;

  @ApiProperty({ type: LagDto, description: 'Over its current evaluations in the window' })
  lag_seconds!: LagDto;
}

@ApiSchema({ name: 'EvaluatorStatsPage', description: 'A page of evaluators with their figures.' })
export class EvaluatorStatsPageDto {
  @ApiProperty({ type: [EvaluatorStatsDto], description: 'Evaluators oldest first' })
  items!: EvaluatorStatsDto[];

  @nextCursor()
  next!: string | null;
}
