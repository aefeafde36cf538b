import { applyDecorators, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ApiController } from '../common/api-controller.js';
import { UuidParam } from '../common/uuid-param.js';
import { toEvaluationLabelDto } from '../evaluation-labels/dto/evaluation-label.dto.js';
import { ApiErrors, ApiStatisticsTimeout } from '../openapi/decorators.js';
import { FILTER_DOCS, FILTER_NAMES, StatsQueryDto } from './dto/stats-query.dto.js';
import { ComparisonDto, LabelStatsDto, RunSummaryDto } from './dto/stats.dto.js';
import { figuresOf } from './figures.js';
import { DEFAULT_ALPHA, parseCompareQuery, toFilters } from './filters.js';
import { StatsService } from './stats.service.js';

/** The filters of /stats once per group of /compare: baseline.from, candidate.workflow, … */
const CompareQueries = () =>
  applyDecorators(
    ApiQuery({
      name: 'alpha',
      required: false,
      schema: {
        type: 'number',
        default: DEFAULT_ALPHA,
        minimum: 0,
        maximum: 1,
        exclusiveMinimum: true,
        exclusiveMaximum: true,
      },
      description: 'Significance level of the verdict',
    }),
    ...(['baseline', 'candidate'] as const).flatMap((group) =>
      FILTER_NAMES.map((name) => {
        const { description, ...schema } = FILTER_DOCS[name];
        return ApiQuery({
          name: `${group}.${name}`,
          required: false,
          description: `${group}: ${description}`,
          ...schema,
        });
      }),
    ),
  );

@ApiTags('Statistics')
@ApiController('v1')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get('evaluation-label/:id/stats')
  @ApiOperation({
    summary: 'Statistics of a label',
    description:
      "Figures of the label's current evaluations (deleted ones excluded), computed by the " +
      'database, optionally per group_by key and UTC time bucket. binary: rate and Wilson ' +
      'ci95; continuous: mean, sample stddev, min, max, p50, p90 and t-interval ci95; ' +
      'ordinal: counts per category, median category and mean_index; categorical: counts ' +
      'and shares. from/to are half-open, [from, to). A query running past DB_STATS_TIMEOUT ' +
      'is a 503 naming how to narrow it.',
  })
  @ApiErrors({ status: 200, type: LabelStatsDto, description: 'The figures per group' }, 400, 404)
  @ApiStatisticsTimeout()
  async labelStats(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'label') id: string,
    @Query() query: StatsQueryDto,
  ): Promise<LabelStatsDto> {
    const filters = toFilters(query);
    const groupBy = query.group_by ?? [];
    const { label, groups } = await this.stats.labelStats(
      principal,
      id,
      filters,
      groupBy,
      query.interval,
    );
    return {
      label: toEvaluationLabelDto(label),
      groups: groups.map((g) => ({
        key: Object.fromEntries(groupBy.map((k, i) => [k, g.groups[i] as string | number | null])),
        bucket: query.interval ? (g.groups[groupBy.length] as Date).toISOString() : null,
        ...figuresOf(label, g),
      })),
    };
  }

  @Get('evaluation-label/:id/compare')
  @CompareQueries()
  @ApiOperation({
    summary: 'Compare two groups of evaluations of a label',
    description:
      'Each group (baseline.*, candidate.*) takes the filters of /stats. binary: difference ' +
      "of rates with Newcombe's hybrid score interval and the two-proportion z test; " +
      "continuous: Welch's t test and interval; ordinal: Mann–Whitney U (normal " +
      'approximation, tie- and continuity-corrected), estimate the difference of mean ' +
      "indexes; categorical: Pearson's chi-square test of homogeneity. The verdict follows " +
      "the label's higher_is_better.",
  })
  @ApiErrors({ status: 200, type: ComparisonDto, description: 'The comparison' }, 400, 404)
  @ApiStatisticsTimeout()
  async compare(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'label') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<ComparisonDto> {
    const { baseline, candidate, alpha } = await parseCompareQuery(query);
    const r = await this.stats.compare(principal, id, baseline, candidate, alpha);
    return {
      label: toEvaluationLabelDto(r.label),
      alpha,
      baseline: figuresOf(r.label, r.baseline),
      candidate: figuresOf(r.label, r.candidate),
      difference: r.difference,
      test: r.test,
      verdict: r.verdict,
    };
  }

  @Get('run/:id/evaluations/summary')
  @ApiOperation({
    summary: 'Summary of the evaluations of a run',
    description: 'For each label the run has evaluations of, the figures of /stats.',
  })
  @ApiErrors({ status: 200, type: RunSummaryDto, description: 'Figures per label' }, 400, 404)
  @ApiStatisticsTimeout()
  async runSummary(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'run') runId: string,
  ): Promise<RunSummaryDto> {
    const summary = await this.stats.runSummary(principal, runId);
    return {
      run_id: runId,
      labels: summary.map(({ label, aggregate }) => ({
        label: toEvaluationLabelDto(label),
        ...figuresOf(label, aggregate),
      })),
    };
  }
}
