import { Body, Delete, Get, HttpCode, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { linkNextPage } from '../common/paging.js';
import { UuidParam } from '../common/uuid-param.js';
import { ApiErrors, ApiPaged, ApiWrite } from '../openapi/decorators.js';
import { ETagged, ETaggedRead } from '../writes/etagged.decorator.js';
import { ApiController } from '../common/api-controller.js';
import {
  CreateRunEvaluationDto,
  ListRunEvaluationsQueryDto,
  UpdateRunEvaluationDto,
} from './dto/create-run-evaluation.dto.js';
import { EvaluationChangeDto, toEvaluationChangeDto } from './dto/evaluation-change.dto.js';
import { RunEvaluationDto, toRunEvaluationDto } from './dto/run-evaluation.dto.js';
import { EvaluationsService } from './evaluations.service.js';

@ApiTags('Run evaluations')
@ApiController('v1/run')
export class EvaluationsController {
  constructor(private readonly evaluations: EvaluationsService) {}

  @Post(':id/evaluations')
  @ETagged()
  @ApiWrite()
  @ApiOperation({
    summary: 'Create evaluation for a run',
    description: 'Create a new evaluation for a specific run',
  })
  @ApiErrors(
    { status: 201, type: RunEvaluationDto, description: 'Evaluation created successfully' },
    400,
    404,
  )
  async create(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'run') runId: string,
    @Body() dto: CreateRunEvaluationDto,
  ): Promise<RunEvaluationDto> {
    return toRunEvaluationDto(await this.evaluations.create(principal, { ...dto, run_id: runId }));
  }

  @Get(':id/evaluations')
  @ApiOperation({
    summary: 'List evaluations for a run',
    description: 'Retrieve all evaluations for a specific run',
  })
  @ApiPaged(RunEvaluationDto, 'List of evaluations for the run', 404)
  async list(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'run') runId: string,
    @Query() query: ListRunEvaluationsQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RunEvaluationDto[]> {
    const page = await this.evaluations.list(principal, runId, query);
    linkNextPage(request, reply, page.next);
    return page.items.map(toRunEvaluationDto);
  }

  @Get(':run_id/evaluation/:evaluation_id')
  @ETaggedRead()
  @ApiOperation({
    summary: 'Get run evaluation',
    description: 'Get a specific evaluation for a run',
  })
  @ApiErrors({ status: 200, type: RunEvaluationDto, description: 'The evaluation' }, 400, 404)
  async get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('run_id', 'run') runId: string,
    @UuidParam('evaluation_id', 'evaluation') id: string,
  ): Promise<RunEvaluationDto> {
    return toRunEvaluationDto(await this.evaluations.get(principal, runId, id));
  }

  @Put(':run_id/evaluation/:evaluation_id')
  @ETagged()
  @ApiWrite({ ifMatch: true })
  @ApiOperation({
    summary: 'Update run evaluation',
    description:
      'Update a specific evaluation for a run. Only `value` changes, and it is required: a body ' +
      'without it, or with any other field, is refused with 400.',
  })
  @ApiErrors(
    { status: 200, type: RunEvaluationDto, description: 'Evaluation updated successfully' },
    400,
    404,
  )
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('run_id', 'run') runId: string,
    @UuidParam('evaluation_id', 'evaluation') id: string,
    @Body() dto: UpdateRunEvaluationDto,
  ): Promise<RunEvaluationDto> {
    return toRunEvaluationDto(await this.evaluations.update(principal, runId, id, dto.value));
  }

  @Delete(':run_id/evaluation/:evaluation_id')
  @HttpCode(204)
  @ApiWrite({ ifMatch: true })
  @ApiOperation({
    summary: 'Delete run evaluation',
    description: 'Deletes the evaluation; its history keeps a record of the delete.',
  })
  @ApiErrors({ status: 204, description: 'Evaluation deleted' }, 400, 404)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('run_id', 'run') runId: string,
    @UuidParam('evaluation_id', 'evaluation') id: string,
  ): Promise<void> {
    await this.evaluations.remove(principal, runId, id);
  }

  @Get(':run_id/evaluation/:evaluation_id/history')
  @ApiOperation({
    summary: 'History of a run evaluation',
    description: 'Every create, update and delete of the evaluation, oldest first.',
  })
  @ApiErrors(
    { status: 200, type: [EvaluationChangeDto], description: 'Changes, oldest first' },
    400,
    404,
  )
  async history(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('run_id', 'run') runId: string,
    @UuidParam('evaluation_id', 'evaluation') id: string,
  ): Promise<EvaluationChangeDto[]> {
    const changes = await this.evaluations.history(principal, runId, id);
    return changes.map(toEvaluationChangeDto);
  }
}
