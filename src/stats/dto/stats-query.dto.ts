import { ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsOptional, IsRFC3339, IsString, Min } from 'class-validator';
import { UuidProperty } from '../../common/validation.js';
import { RUN_STATUSES, type RunStatus } from '../../runs/run.entity.js';

export const GROUP_KEYS = [
  'workflow',
  'output_name',
  'evaluator',
  'created_by',
  'source',
  'label_version',
] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];
export const INTERVALS = ['hour', 'day', 'week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];
export const SOURCES = ['human', 'evaluator'] as const;
export type Source = (typeof SOURCES)[number];

/** A query string's digits as a number; anything else stays as sent, for IsInt to refuse. */
const toWholeNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : value;

const instant = (bound: string) =>
  `RFC 3339 instant with a time zone, e.g. 2026-11-01T00:00:00Z; must be ${bound}`;

/** The OpenAPI facts of each filter, shared by /stats and by both groups of /compare. */
export const FILTER_DOCS = {
  from: {
    type: String,
    format: 'date-time',
    description: 'Only evaluations created at or after this instant (inclusive)',
  },
  to: {
    type: String,
    format: 'date-time',
    description: 'Only evaluations created before this instant (exclusive); later than from',
  },
  workflow: { type: String, description: 'Only evaluations of runs of this workflow' },
  run_status: { enum: RUN_STATUSES, description: 'Only evaluations of runs in this status' },
  output_name: { type: String, description: 'Only evaluations of this output' },
  created_by: { type: String, description: 'Only evaluations created by this user' },
  created_by_evaluator_id: {
    type: String,
    format: 'uuid',
    description: 'Only evaluations created by this evaluator',
  },
  source: {
    enum: SOURCES,
    description: 'human: created with a user token; evaluator: with an evaluator token',
  },
  label_version: {
    type: 'integer',
    minimum: 1,
    description: 'Only evaluations checked against this version of the label',
  },
} satisfies Record<string, ApiPropertyOptions>;

export type FilterName = keyof typeof FILTER_DOCS;
export const FILTER_NAMES = Object.keys(FILTER_DOCS) as FilterName[];

/** Which evaluations of a label a statistic covers. */
export class StatsFiltersDto {
  @ApiPropertyOptional(FILTER_DOCS.from)
  @IsOptional()
  @IsRFC3339({ message: `from must be an ${instant('before to')}` })
  from?: string;

  @ApiPropertyOptional(FILTER_DOCS.to)
  @IsOptional()
  @IsRFC3339({ message: `to must be an ${instant('after from')}` })
  to?: string;

  @ApiPropertyOptional(FILTER_DOCS.workflow)
  @IsOptional()
  @IsString()
  workflow?: string;

  @ApiPropertyOptional(FILTER_DOCS.run_status)
  @IsOptional()
  @IsIn(RUN_STATUSES, { message: `run_status must be one of ${RUN_STATUSES.join(', ')}` })
  run_status?: RunStatus;

  @ApiPropertyOptional(FILTER_DOCS.output_name)
  @IsOptional()
  @IsString()
  output_name?: string;

  @ApiPropertyOptional(FILTER_DOCS.created_by)
  @IsOptional()
  @IsString()
  created_by?: string;

  @UuidProperty({ required: false, ...FILTER_DOCS.created_by_evaluator_id })
  @IsOptional()
  created_by_evaluator_id?: string;

  @ApiPropertyOptional(FILTER_DOCS.source)
  @IsOptional()
  @IsIn(SOURCES, { message: `source must be one of ${SOURCES.join(', ')}` })
  source?: Source;

  @ApiPropertyOptional(FILTER_DOCS.label_version)
  @IsOptional()
  @Transform(toWholeNumber)
  @IsInt({ message: 'label_version must be a whole number from 1' })
  @Min(1, { message: 'label_version must be a whole number from 1' })
  label_version?: number;
}

const splitList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? [...new Set(value.split(',').map((v) => v.trim()))] : value;

export class StatsQueryDto extends StatsFiltersDto {
  @ApiPropertyOptional({
    type: String,
    example: 'workflow,source',
    description: `Comma list of keys to group by: ${GROUP_KEYS.join(', ')}`,
  })
  @IsOptional()
  @Transform(splitList)
  @IsArray({ message: 'group_by must be one comma list' })
  @IsIn(GROUP_KEYS, {
    each: true,
    message: `group_by must be a comma list of ${GROUP_KEYS.join(', ')}`,
  })
  group_by?: GroupKey[];

  @ApiPropertyOptional({ enum: INTERVALS, description: 'Also group by time buckets (UTC)' })
  @IsOptional()
  @IsIn(INTERVALS, { message: `interval must be one of ${INTERVALS.join(', ')}` })
  interval?: Interval;
}
