import { applyDecorators, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ApiController } from '../common/api-controller.js';
import { UuidParam } from '../common/uuid-param.js';
import { toEvaluationLabelDto } from '../evaluation-labels/dto/evaluation-label.dto.js';
import { ApiErrors, ApiStatisticsTimeout } from '../openapi/decorators.js';
import { FILTER_DOCS, FILTER_NAMES, StatsQueryDto } from './dto/stats-query.dto.js';
import type { EvaluationLabelEntity } from '../evaluation-labels/evaluation-label.entity.js';
import { agreementFigures } from './agreement.js';
import type { Comparison } from './compare.js';
import { AgreementDto } from './dto/agreement.dto.js';
import { ComparisonDto, LabelStatsDto, RunSummaryDto } from './dto/stats.dto.js';
import { type Aggregate, figuresOf } from './figures.js';
import {
  DEFAULT_ALPHA,
  DEFAULT_REGRESSIONS_LIMIT,
  MAX_PAIR_KEY_LENGTH,
  MAX_REGRESSIONS_LIMIT,
  parseAgreementQuery,
  parseCompareQuery,
  toFilters,
} from './filters.js';
import { comparePairs } from './paired.js';
import { StatsService } from './stats.service.js';

/** The filters of /stats once per group: baseline.from, candidate.workflow, a.source, … */
const GroupQueries = (groups: readonly string[]) =>
  groups.flatMap((group) =>
    FILTER_NAMES.map((name) => {
      const { description, ...schema } = FILTER_DOCS[name];
      return ApiQuery({
        name: `${group}.${name}`,
        required: false,
        description: `${group}: ${description}`,
        ...schema,
      });
    }),
  );

/** The parameters of /compare: alpha, the pairing, and the filters of both groups. */
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
    ApiQuery({
      name: 'pair_by',
      required: false,
      schema: { type: 'string', pattern: `^(inputs|metadata\\..{1,${MAX_PAIR_KEY_LENGTH}})$` },
      example: 'metadata.case_id',
      description:
        'Pair runs into cases: inputs (runs with equal inputs, as JSON) or metadata.<key> ' +
        '(runs with equal values of that key; runs without it are no case). Adds pairs, ' +
        'paired_test and regressions; the verdict then comes from the paired test.',
    }),
    ApiQuery({
      name: 'regressions_limit',
      required: false,
      schema: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_REGRESSIONS_LIMIT,
        default: DEFAULT_REGRESSIONS_LIMIT,
      },
      description: 'With pair_by: how many cases with the largest drop to list',
    }),
    ...GroupQueries(['baseline', 'candidate']),
  );

/** The answer of /compare without pair_by: both groups' figures, unpaired test, verdict. */
const comparisonOf = (
  r: Comparison & { label: EvaluationLabelEntity; baseline: Aggregate; candidate: Aggregate },
  alpha: number,
): ComparisonDto => ({
  label: toEvaluationLabelDto(r.label),
  alpha,
  baseline: figuresOf(r.label, r.baseline),
  candidate: figuresOf(r.label, r.candidate),
  difference: r.difference,
  test: r.test,
  verdict: r.verdict,
});

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
      "the label's higher_is_better. With pair_by, runs with equal inputs (or metadata " +
      "value) are paired into cases, a case's value in a group being the mean of its " +
      "evaluations there: pairs, paired_test (binary: McNemar's exact test; continuous: " +
      'paired t, with Wilcoxon signed-rank beside it; ordinal: Wilcoxon signed-rank; ' +
      "categorical: Bowker's test of symmetry) and the worst regressions are added, and the " +
      'verdict comes from the paired test.',
  })
  @ApiErrors({ status: 200, type: ComparisonDto, description: 'The comparison' }, 400, 404)
  @ApiStatisticsTimeout()
  async compare(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'label') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<ComparisonDto> {
    const { baseline, candidate, alpha, pairing } = await parseCompareQuery(query);
    if (!pairing) {
      const r = await this.stats.compare(principal, id, baseline, candidate, alpha);
      return comparisonOf(r, alpha);
    }
    const r = await this.stats.pairedCompare(principal, id, baseline, candidate, alpha, pairing);
    return {
      ...comparisonOf(r, alpha),
      pair_by: pairing.name,
      ...comparePairs(r.label, r.paired, alpha),
    };
  }

  @Get('evaluation-label/:id/agreement')
  @applyDecorators(...GroupQueries(['a', 'b']))
  @ApiOperation({
    summary: 'Agreement of two groups of evaluations of a label',
    description:
      'Each group (a.*, b.*) takes the filters of /stats. Pairs are the targets (run, ' +
      'output_name, field_path) both groups evaluated, each side counting its latest ' +
      "evaluation. binary and categorical: confusion counts, percent agreement, Cohen's " +
      'kappa with its asymptotic 95% interval; ordinal: the same with quadratic weights, ' +
      "and Spearman's rho; continuous: Pearson's r with Fisher's z interval, Spearman's " +
      'rho, mean absolute and root mean square difference, and the Bland–Altman mean ' +
      'difference (b − a) with its limits of agreement. Fewer than two pairs give nulls. ' +
      'Groups with the same filters are a 400.',
  })
  @ApiErrors({ status: 200, type: AgreementDto, description: 'The agreement' }, 400, 404)
  @ApiStatisticsTimeout()
  async agreement(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'label') id: string,
    @Query() query: Record<string, unknown>,
  ): Promise<AgreementDto> {
    const { a, b } = await parseAgreementQuery(query);
    const r = await this.stats.agreement(principal, id, a, b);
    return { label: toEvaluationLabelDto(r.label), ...agreementFigures(r.label, r.aggregate) };
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
