import { Body, Delete, Get, HttpCode, Patch, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOperation,
  ApiTags,
  getSchemaPath,
  IntersectionType,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { linkNextPage, PageQueryDto } from '../common/paging.js';
import { UuidParam } from '../common/uuid-param.js';
import { ApiErrors, ApiPaged, ApiWrite } from '../openapi/decorators.js';
import { Answer } from '../writes/answer.js';
import { ETagged, ETaggedRead } from '../writes/etagged.decorator.js';
import { ApiController } from '../common/api-controller.js';
import {
  CreateEvaluationLabelDto,
  ListEvaluationLabelsQueryDto,
  UpdateEvaluationLabelDto,
  UpdateEvaluationLabelQueryDto,
} from './dto/create-evaluation-label.dto.js';
import {
  LabelChangePreviewDto,
  LabelVersionDto,
  toLabelVersionDto,
} from './dto/label-version.dto.js';
import { EvaluationLabelDto, toEvaluationLabelDto } from './dto/evaluation-label.dto.js';
import { EvaluationLabelsService } from './evaluation-labels.service.js';

class ListLabelsQuery extends IntersectionType(PageQueryDto, ListEvaluationLabelsQueryDto) {}

@ApiTags('Evaluation labels')
@ApiController('v1')
export class EvaluationLabelsController {
  constructor(private readonly labels: EvaluationLabelsService) {}

  @Post('evaluation-labels')
  @ETagged()
  @ApiWrite()
  @ApiOperation({
    summary: 'Define an evaluation label',
    description:
      'binary: values 0 or 1. continuous: min_value ≤ value ≤ max_value. categorical and ' +
      'ordinal: a 0-based index into 2–100 distinct categories (ordinal lowest first).',
  })
  @ApiErrors({ status: 201, type: EvaluationLabelDto, description: 'Label created' }, 400)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateEvaluationLabelDto,
  ): Promise<EvaluationLabelDto> {
    return toEvaluationLabelDto(await this.labels.create(principal, dto));
  }

  @Get('evaluation-labels')
  @ApiOperation({
    summary: 'List evaluation labels',
    description: 'Oldest first; archived labels only with include_archived=true.',
  })
  @ApiPaged(EvaluationLabelDto, 'Evaluation labels, oldest first')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListLabelsQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<EvaluationLabelDto[]> {
    const page = await this.labels.list(principal, query.include_archived ?? false, query);
    linkNextPage(request, reply, page.next);
    return page.items.map(toEvaluationLabelDto);
  }

  @Get('evaluation-label/:id')
  @ETaggedRead()
  @ApiOperation({ summary: 'Get an evaluation label', description: 'Archived labels included.' })
  @ApiErrors({ status: 200, type: EvaluationLabelDto, description: 'The label' }, 400, 404)
  async get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'label') id: string,
  ): Promise<EvaluationLabelDto> {
    return toEvaluationLabelDto(await this.labels.get(principal, id));
  }

  @Patch('evaluation-label/:id')
  @ETagged()
  @ApiWrite({ ifMatch: true })
  @ApiExtraModels(LabelChangePreviewDto)
  @ApiOperation({
    summary: 'Update an evaluation label',
    description:
      'name, description and higher_is_better may always change. While evaluations use the ' +
      'label, a compatible change of its scale (a continuous range made wider, a category ' +
      'added at the end of a categorical label) keeps its version; a breaking one (a range ' +
      'made narrower or moved, a category removed, renamed or reordered, a category added to ' +
      'an ordinal scale, another value_type) makes the next version. Stored evaluations are ' +
      'never re-validated or changed. With dry_run=true the answer is a LabelChangePreview ' +
      'and nothing is written.',
  })
  @ApiErrors(
    {
      status: 200,
      description: 'Label updated; with dry_run=true, what the change would do',
      content: {
        'application/json': {
          schema: {
            oneOf: [
              { $ref: getSchemaPath(EvaluationLabelDto) },
              { $ref: getSchemaPath(LabelChangePreviewDto) },
            ],
          },
        },
      },
    },
    400,
    404,
  )
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'label') id: string,
    @Query() query: UpdateEvaluationLabelQueryDto,
    @Body() dto: UpdateEvaluationLabelDto,
  ): Promise<EvaluationLabelDto | Answer> {
    if (query.dry_run) {
      // Not the label: answered without the label's ETag.
      return new Answer(200, await this.labels.preview(principal, id, dto), false);
    }
    return toEvaluationLabelDto(await this.labels.update(principal, id, dto));
  }

  @Get('evaluation-label/:id/versions')
  @ApiOperation({
    summary: 'List the versions of a label’s scale',
    description:
      'Oldest first: each version’s definition, who made it and when, and how many current ' +
      'evaluations were checked against it.',
  })
  @ApiErrors(
    { status: 200, type: [LabelVersionDto], description: 'The versions, oldest first' },
    400,
    404,
  )
  async versions(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'label') id: string,
  ): Promise<LabelVersionDto[]> {
    return (await this.labels.versions(principal, id)).map(toLabelVersionDto);
  }

  @Delete('evaluation-label/:id')
  @HttpCode(204)
  @ApiWrite({ ifMatch: true })
  @ApiOperation({
    summary: 'Delete an evaluation label',
    description:
      'Removes an unused label. A label in use is archived instead: its evaluations stay ' +
      'readable, new ones are refused with 422.',
  })
  @ApiErrors({ status: 204, description: 'Deleted, or archived when in use' }, 400, 404)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'label') id: string,
  ): Promise<void> {
    await this.labels.remove(principal, id);
  }
}
