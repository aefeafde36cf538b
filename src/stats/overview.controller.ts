import { Get, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ApiController } from '../common/api-controller.js';
import { linkNextPage } from '../common/paging.js';
import { toEvaluationLabelDto } from '../evaluation-labels/dto/evaluation-label.dto.js';
import { EvaluationLabelsService } from '../evaluation-labels/evaluation-labels.service.js';
import { toEvaluatorDto } from '../evaluators/dto/evaluator.dto.js';
import { EvaluatorsService } from '../evaluators/evaluators.service.js';
import { ApiErrors, ApiStatisticsTimeout } from '../openapi/decorators.js';
import {
  DEFAULT_INTERVAL,
  EvaluatorStatsPageDto,
  EvaluatorStatsQueryDto,
  LabelOverviewPageDto,
  LabelOverviewQueryDto,
} from './dto/overview.dto.js';
import { figuresOf } from './figures.js';
import { toFilters } from './filters.js';
import { directionOf, headlineOf, trendBucketOf } from './overview.js';
import { StatsService } from './stats.service.js';

const LINK = {
  Link: {
    description: 'When more remain: `<url of the next page>; rel="next"`',
    schema: { type: 'string' },
  },
};

/** The account at a glance: every label's figures, and what each evaluator did. */
@ApiTags('Statistics')
@ApiController('v1')
export class OverviewController {
  constructor(
    private readonly stats: StatsService,
    private readonly labels: EvaluationLabelsService,
    private readonly evaluators: EvaluatorsService,
  ) {}

  @Get('evaluation-labels/stats')
  @ApiOperation({
    summary: 'Statistics of every label',
    description:
      'A page of labels as GET /v1/evaluation-labels lists them (archived ones only with ' +
      'include_archived=true), each with the figures /stats answers for the filters, its ' +
      'headline figure (binary rate, continuous mean, ordinal median, categorical mode) per ' +
      'UTC bucket of interval, and its direction: the latest bucket against the rest of the ' +
      'window ([from, to), else the span of its evaluations), compared as /compare does at ' +
      'alpha 0.05, with both ranges.',
  })
  @ApiErrors(
    { status: 200, type: LabelOverviewPageDto, description: 'The labels', headers: LINK },
    400,
  )
  @ApiStatisticsTimeout()
  async labelOverview(
    @CurrentPrincipal() principal: Principal,
    @Query() query: LabelOverviewQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LabelOverviewPageDto> {
    const { limit, cursor, include_archived, interval = DEFAULT_INTERVAL, ...rest } = query;
    const filters = toFilters(rest);
    const page = await this.labels.list(principal, include_archived ?? false, { limit, cursor });
    const overview = await this.stats.overview(principal, page.items, filters, interval);
    linkNextPage(request, reply, page.next);
    return {
      items: overview.map(({ label, total, trend, ranges, baseline, candidate }) => {
        const figures = figuresOf(label, total);
        return {
          label: toEvaluationLabelDto(label),
          figures,
          headline: headlineOf(label, total, figures),
          trend: trend.map((b) => trendBucketOf(label, b.bucket, b.aggregate)),
          direction: directionOf(label, ranges, baseline, candidate),
        };
      }),
      next: page.next ?? null,
    };
  }

  @Get('evaluators/stats')
  @ApiOperation({
    summary: 'Statistics of every evaluator',
    description:
      'A page of evaluators as GET /v1/evaluators lists them, each with its current ' +
      'evaluations created in [from, to) (of evaluation_label_id if given): n, their ' +
      "volume per UTC bucket of interval, and their lag after their run's creation; and " +
      'of the evaluations it created there, deleted ones included, how many a person ' +
      'later updated or deleted (from their history).',
  })
  @ApiErrors(
    { status: 200, type: EvaluatorStatsPageDto, description: 'The evaluators', headers: LINK },
    400,
  )
  @ApiStatisticsTimeout()
  async evaluatorStats(
    @CurrentPrincipal() principal: Principal,
    @Query() query: EvaluatorStatsQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<EvaluatorStatsPageDto> {
    const { limit, cursor, interval = DEFAULT_INTERVAL, evaluation_label_id, ...window } = query;
    const filters = toFilters(window);
    const page = await this.evaluators.list(principal, { limit, cursor });
    const ids = page.items.map((e) => e.id);
    const activity = await this.stats.evaluatorStats(
      principal,
      ids,
      filters,
      evaluation_label_id,
      interval,
    );
    linkNextPage(request, reply, page.next);
    return {
      items: page.items.map((evaluator) => {
        const { lag, volume, changed } = activity.get(evaluator.id)!;
        return {
          evaluator: toEvaluatorDto(evaluator),
          n: lag.n,
          volume: volume.map((v) => ({ bucket: v.bucket.toISOString(), n: v.n })),
          changed: { ...changed, share: changed.n > 0 ? changed.changed / changed.n : null },
          lag_seconds: {
            p50: lag.p50 ?? null,
            p90: lag.p90 ?? null,
            max: lag.max ?? null,
            mean: lag.mean ?? null,
          },
        };
      }),
      next: page.next ?? null,
    };
  }
}
