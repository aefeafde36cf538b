import { Body, Delete, Get, HttpCode, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { linkNextPage, PageQueryDto } from '../common/paging.js';
import { UuidParam } from '../common/uuid-param.js';
import { ApiErrors, ApiPaged, ApiWrite } from '../openapi/decorators.js';
import { ETagged, ETaggedRead } from '../writes/etagged.decorator.js';
import { ApiController } from '../common/api-controller.js';
import { CreateRunDto, UpdateRunDto } from './dto/create-run.dto.js';
import { RunDto, toRunDto } from './dto/run.dto.js';
import { RunsService } from './runs.service.js';

@ApiTags('Runs')
@ApiController('v1')
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Post('runs')
  @ETagged()
  @ApiWrite()
  @ApiOperation({
    summary: 'Record a run',
    description: 'Records a run of a workflow, with its outputs.',
  })
  @ApiErrors({ status: 201, type: RunDto, description: 'Run recorded' }, 400)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateRunDto,
  ): Promise<RunDto> {
    return toRunDto(await this.runs.create(principal, dto));
  }

  @Get('runs')
  @ApiOperation({
    summary: 'List runs',
    description: 'Lists the runs of your account, oldest first.',
  })
  @ApiPaged(RunDto, 'Runs, oldest first')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: PageQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RunDto[]> {
    const page = await this.runs.list(principal, query);
    linkNextPage(request, reply, page.next);
    return page.items.map(toRunDto);
  }

  @Get('run/:id')
  @ETaggedRead()
  @ApiOperation({ summary: 'Get a run', description: 'One run of your account, with its outputs.' })
  @ApiErrors({ status: 200, type: RunDto, description: 'The run' }, 400, 404)
  async get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'run') id: string,
  ): Promise<RunDto> {
    return toRunDto(await this.runs.get(principal, id));
  }

  @Patch('run/:id')
  @ETagged()
  @ApiWrite({ ifMatch: true })
  @ApiOperation({
    summary: 'Update a run',
    description: 'Changes the fields sent; a field sent as null is cleared, one left out stays.',
  })
  @ApiErrors({ status: 200, type: RunDto, description: 'Run updated' }, 400, 404)
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'run') id: string,
    @Body() dto: UpdateRunDto,
  ): Promise<RunDto> {
    return toRunDto(await this.runs.update(principal, id, dto));
  }

  @Delete('run/:id')
  @HttpCode(204)
  @ApiWrite({ ifMatch: true })
  @ApiOperation({ summary: 'Delete a run', description: 'Deletes a run and its evaluations.' })
  @ApiErrors({ status: 204, description: 'Run and its evaluations deleted' }, 400, 404)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'run') id: string,
  ): Promise<void> {
    await this.runs.remove(principal, id);
  }
}
