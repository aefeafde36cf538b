import { Body, Delete, Get, HttpCode, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags, IntersectionType } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { linkNextPage, PageQueryDto } from '../common/paging.js';
import { UuidParam } from '../common/uuid-param.js';
import { ApiErrors, ApiPaged, ApiWrite } from '../openapi/decorators.js';
import { ETagged, ETaggedRead } from '../writes/etagged.decorator.js';
import { ApiController } from '../common/api-controller.js';
import {
  CreateEvaluationLabelDto,
  ListEvaluationLabelsQueryDto,
  UpdateEvaluationLabelDto,
} from './dto/create-evaluation-label.dto.js';
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
  @ApiOperation({
    summary: 'Update an evaluation label',
    description:
      'name and description may always change; value_type, min_value, max_value and ' +
      'categories only while no evaluation uses the label (else 409).',
  })
  @ApiErrors({ status: 200, type: EvaluationLabelDto, description: 'Label updated' }, 400, 404)
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'label') id: string,
    @Body() dto: UpdateEvaluationLabelDto,
  ): Promise<EvaluationLabelDto> {
    return toEvaluationLabelDto(await this.labels.update(principal, id, dto));
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
