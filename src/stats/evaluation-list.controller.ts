import { Get, Query, Req, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ApiController } from '../common/api-controller.js';
import { linkNextPage } from '../common/paging.js';
import {
  RunEvaluationRecordDto,
  toRunEvaluationRecordDto,
} from '../evaluations/dto/run-evaluation.dto.js';
import { ApiErrors } from '../openapi/decorators.js';
import { ListEvaluationsQueryDto } from './dto/list-evaluations-query.dto.js';
import { EvaluationListService } from './evaluation-list.service.js';
import { exportTypeOf } from './export-format.js';

@ApiTags('Run evaluations')
@ApiExtraModels(RunEvaluationRecordDto)
@ApiController('v1')
export class EvaluationListController {
  constructor(private readonly evaluations: EvaluationListService) {}

  @Get('evaluations')
  @ApiOperation({
    summary: 'List evaluations across runs, or export them',
    description:
      'The account’s evaluations of every run, oldest first, with the filters of a run’s ' +
      'list plus workflow and a half-open [from, to) range on created_at. By default a bare ' +
      'JSON array paged by limit/cursor and a Link header. With `Accept: ' +
      'application/x-ndjson` (one RunEvaluationRecord per line) or `Accept: text/csv` (a header ' +
      'line, then one row per evaluation) it streams every matching row in one answer, no ' +
      'paging (a cursor still sets where it starts; limit is ignored). Accept is negotiated ' +
      'with its q-values, JSON winning ties; one that allows none of the three is a 406. In ' +
      "CSV, text starting with =, +, -, @, a tab or a carriage return gets a leading '.",
  })
  @ApiErrors(
    {
      status: 200,
      description: 'The evaluations',
      headers: {
        Link: {
          description: 'JSON only, when more rows remain: `<url of the next page>; rel="next"`',
          schema: { type: 'string' },
        },
      },
      content: {
        'application/json': {
          schema: { type: 'array', items: { $ref: getSchemaPath(RunEvaluationRecordDto) } },
        },
        'application/x-ndjson': {
          schema: { type: 'string', description: 'One RunEvaluationRecord as JSON per line' },
        },
        'text/csv': {
          schema: {
            type: 'string',
            description: 'RFC 4180, a header line then one row per evaluation; null is empty',
          },
        },
      },
    },
    400,
    406,
  )
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListEvaluationsQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RunEvaluationRecordDto[] | NodeJS.ReadableStream> {
    const type = exportTypeOf(request.headers.accept);
    if (type) {
      const stream = await this.evaluations.export(principal, query, type);
      reply.type(type === 'text/csv' ? 'text/csv; charset=utf-8' : type);
      return stream;
    }
    const page = await this.evaluations.list(principal, query);
    linkNextPage(request, reply, page.next);
    return page.items.map(toRunEvaluationRecordDto);
  }
}
