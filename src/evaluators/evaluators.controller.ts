import { Body, Delete, Get, HttpCode, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ApiController } from '../common/api-controller.js';
import { linkNextPage, PageQueryDto } from '../common/paging.js';
import { UuidParam } from '../common/uuid-param.js';
import { ApiErrors, ApiPaged, ApiWrite } from '../openapi/decorators.js';
import { ETagged, ETaggedRead } from '../writes/etagged.decorator.js';
import { CreateEvaluatorDto, UpdateEvaluatorDto } from './dto/create-evaluator.dto.js';
import { EvaluatorDto, toEvaluatorDto } from './dto/evaluator.dto.js';
import { EvaluatorsService } from './evaluators.service.js';

@ApiTags('Evaluators')
@ApiController('v1')
export class EvaluatorsController {
  constructor(private readonly evaluators: EvaluatorsService) {}

  @Post('evaluators')
  @ETagged()
  @ApiWrite()
  @ApiOperation({
    summary: 'Register an evaluator',
    description:
      'Registers an automated evaluator. A token whose evaluator_id is its id may then write; ' +
      'the name is unique in the account.',
  })
  @ApiErrors({ status: 201, type: EvaluatorDto, description: 'Evaluator registered' }, 400)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateEvaluatorDto,
  ): Promise<EvaluatorDto> {
    return toEvaluatorDto(await this.evaluators.create(principal, dto));
  }

  @Get('evaluators')
  @ApiOperation({
    summary: 'List evaluators',
    description: 'The evaluators of your account, oldest first, disabled ones included.',
  })
  @ApiPaged(EvaluatorDto, 'Evaluators, oldest first')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: PageQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<EvaluatorDto[]> {
    const page = await this.evaluators.list(principal, query);
    linkNextPage(request, reply, page.next);
    return page.items.map(toEvaluatorDto);
  }

  @Get('evaluator/:id')
  @ETaggedRead()
  @ApiOperation({ summary: 'Get an evaluator', description: 'One evaluator of your account.' })
  @ApiErrors({ status: 200, type: EvaluatorDto, description: 'The evaluator' }, 400, 404)
  async get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'evaluator') id: string,
  ): Promise<EvaluatorDto> {
    return toEvaluatorDto(await this.evaluators.get(principal, id));
  }

  @Patch('evaluator/:id')
  @ETagged()
  @ApiWrite({ ifMatch: true })
  @ApiOperation({
    summary: 'Update an evaluator',
    description: 'Changes the fields sent; a field sent as null is cleared, one left out stays.',
  })
  @ApiErrors({ status: 200, type: EvaluatorDto, description: 'Evaluator updated' }, 400, 404)
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'evaluator') id: string,
    @Body() dto: UpdateEvaluatorDto,
  ): Promise<EvaluatorDto> {
    return toEvaluatorDto(await this.evaluators.update(principal, id, dto));
  }

  @Delete('evaluator/:id')
  @HttpCode(204)
  @ApiWrite({ ifMatch: true })
  @ApiOperation({
    summary: 'Delete an evaluator',
    description:
      'Removes an evaluator that never wrote an evaluation. One that did is disabled instead ' +
      '(disabled_at set): its tokens may no longer write, and its evaluations stay readable.',
  })
  @ApiErrors({ status: 204, description: 'Evaluator removed or disabled' }, 400, 404)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'evaluator') id: string,
  ): Promise<void> {
    await this.evaluators.remove(principal, id);
  }
}
