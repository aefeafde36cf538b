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
import {
  CreateWebhookDto,
  MAX_WEBHOOKS_PER_ACCOUNT,
  ReplayWebhookDto,
  UpdateWebhookDto,
} from './dto/create-webhook.dto.js';
import {
  toWebhookAttemptDto,
  toWebhookDto,
  WebhookAttemptDto,
  WebhookDto,
  WebhookReplayDto,
  WebhookWithSecretDto,
} from './dto/webhook.dto.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('Webhooks')
@ApiController('v1')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post('webhooks')
  @ApiWrite()
  @ApiOperation({
    summary: 'Register a webhook',
    description:
      'Registers an endpoint that receives the change events of the types named, each POSTed ' +
      'and signed as Standard Webhooks says. The answer holds the signing secret, shown only ' +
      `here. At most ${MAX_WEBHOOKS_PER_ACCOUNT} webhooks per account.`,
  })
  @ApiErrors({ status: 201, type: WebhookWithSecretDto, description: 'Webhook registered' }, 400)
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateWebhookDto,
  ): Promise<WebhookWithSecretDto> {
    return this.webhooks.create(principal, dto);
  }

  @Get('webhooks')
  @ApiOperation({
    summary: 'List webhooks',
    description: 'The webhooks of your account, oldest first, without their secrets.',
  })
  @ApiPaged(WebhookDto, 'Webhooks, oldest first')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: PageQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WebhookDto[]> {
    const page = await this.webhooks.list(principal, query);
    linkNextPage(request, reply, page.next);
    return page.items.map(toWebhookDto);
  }

  @Get('webhook/:id')
  @ETaggedRead()
  @ApiOperation({ summary: 'Get a webhook', description: 'One webhook, without its secret.' })
  @ApiErrors({ status: 200, type: WebhookDto, description: 'The webhook' }, 400, 404)
  async get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'webhook') id: string,
  ): Promise<WebhookDto> {
    return toWebhookDto(await this.webhooks.get(principal, id));
  }

  @Patch('webhook/:id')
  @ETagged()
  @ApiWrite({ ifMatch: true })
  @ApiOperation({
    summary: 'Update a webhook',
    description:
      'Changes url, event_types, description or enabled. enabled: false stops deliveries; ' +
      'true starts them again where they stopped, pending events first.',
  })
  @ApiErrors({ status: 200, type: WebhookDto, description: 'Webhook updated' }, 400, 404)
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'webhook') id: string,
    @Body() dto: UpdateWebhookDto,
  ): Promise<WebhookDto> {
    return toWebhookDto(await this.webhooks.update(principal, id, dto));
  }

  @Delete('webhook/:id')
  @HttpCode(204)
  @ApiWrite({ ifMatch: true })
  @ApiOperation({
    summary: 'Delete a webhook',
    description: 'Removes the webhook, what it still owed and its attempts.',
  })
  @ApiErrors({ status: 204, description: 'Webhook removed' }, 400, 404)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'webhook') id: string,
  ): Promise<void> {
    await this.webhooks.remove(principal, id);
  }

  @Post('webhook/:id/rotate-secret')
  @HttpCode(200)
  @ApiWrite()
  @ApiOperation({
    summary: "Rotate a webhook's secret",
    description:
      'Makes a new signing secret, shown only here. For 24 hours by default ' +
      '(WEBHOOK_SECRET_OVERLAP) the old one signs too (webhook-signature holds both, ' +
      'space-separated), so receivers can switch at leisure.',
  })
  @ApiErrors({ status: 200, type: WebhookWithSecretDto, description: 'The new secret' }, 400, 404)
  rotate(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'webhook') id: string,
  ): Promise<WebhookWithSecretDto> {
    return this.webhooks.rotateSecret(principal, id);
  }

  @Get('webhook/:id/deliveries')
  @ApiOperation({
    summary: "List a webhook's delivery attempts",
    description:
      "Every attempt, newest first: the event, its status, the receiver's HTTP status, " +
      'latency, error and when it is tried next.',
  })
  @ApiPaged(WebhookAttemptDto, 'Attempts, newest first', 404)
  async deliveries(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'webhook') id: string,
    @Query() query: PageQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WebhookAttemptDto[]> {
    const page = await this.webhooks.attempts(principal, id, query);
    linkNextPage(request, reply, page.next);
    return page.items.map(toWebhookAttemptDto);
  }

  @Post('webhook/:id/replay')
  @HttpCode(202)
  @ApiWrite()
  @ApiOperation({
    summary: 'Send events to a webhook again',
    description:
      'Sends again every kept event of its types from `since` (an event id, included, or an ' +
      'instant) on, oldest first, before what comes next.',
  })
  @ApiErrors({ status: 202, type: WebhookReplayDto, description: 'Replay scheduled' }, 400, 404)
  replay(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'webhook') id: string,
    @Body() dto: ReplayWebhookDto,
  ): Promise<WebhookReplayDto> {
    return this.webhooks.replay(principal, id, dto.since);
  }
}
