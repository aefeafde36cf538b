import {
  Body,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Patch,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { ApiController } from '../common/api-controller.js';
import { linkNextPage } from '../common/paging.js';
import { UuidParam } from '../common/uuid-param.js';
import { toRunEvaluationDto } from '../evaluations/dto/run-evaluation.dto.js';
import { ApiErrors, ApiPaged, ApiWrite } from '../openapi/decorators.js';
import { Answer } from '../writes/answer.js';
import { ETagged, ETaggedRead } from '../writes/etagged.decorator.js';
import {
  AddQueueItemsDto,
  CreateReviewDto,
  CreateReviewQueueDto,
  ListQueueItemsQueryDto,
  ListReviewQueuesQueryDto,
  UpdateReviewQueueDto,
} from './dto/create-review-queue.dto.js';
import {
  AgreementDto,
  ClaimDto,
  ProgressDto,
  QueueItemsAddedDto,
  ReviewDto,
  ReviewQueueDto,
  ReviewQueueItemDto,
  toReviewQueueDto,
} from './dto/review-queue.dto.js';
import { ReviewQueuesService } from './review-queues.service.js';

@ApiTags('Review queues')
@ApiController('v1')
export class ReviewQueuesController {
  constructor(private readonly queues: ReviewQueuesService) {}

  @Post('review-queues')
  @ETagged()
  @ApiWrite()
  @ApiOperation({
    summary: 'Create a review queue',
    description:
      'A queue of runs for people to review: each review gives one value for each of ' +
      'label_ids (1 to 20 labels of your account, not archived), and each item gets ' +
      'reviews_per_item reviews by different people.',
  })
  @ApiErrors({ status: 201, type: ReviewQueueDto, description: 'Queue created' }, 400, 404)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateReviewQueueDto,
  ): Promise<ReviewQueueDto> {
    return toReviewQueueDto(await this.queues.create(principal, dto));
  }

  @Get('review-queues')
  @ApiOperation({
    summary: 'List review queues',
    description: 'The review queues of your account, oldest first; archived ones on request.',
  })
  @ApiPaged(ReviewQueueDto, 'Review queues, oldest first')
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListReviewQueuesQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReviewQueueDto[]> {
    const page = await this.queues.list(principal, query);
    linkNextPage(request, reply, page.next);
    return page.items.map(toReviewQueueDto);
  }

  @Get('review-queue/:id')
  @ETaggedRead()
  @ApiOperation({ summary: 'Get a review queue', description: 'One review queue of your account.' })
  @ApiErrors({ status: 200, type: ReviewQueueDto, description: 'The queue' }, 400, 404)
  async get(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'review queue') id: string,
  ): Promise<ReviewQueueDto> {
    return toReviewQueueDto(await this.queues.get(principal, id));
  }

  @Patch('review-queue/:id')
  @ETagged()
  @ApiWrite({ ifMatch: true })
  @ApiOperation({
    summary: 'Update a review queue',
    description:
      'Changes the fields sent. name, description, instructions and reservation_seconds may ' +
      'always change; label_ids and reviews_per_item only while the queue has no reviews (409).',
  })
  @ApiErrors({ status: 200, type: ReviewQueueDto, description: 'Queue updated' }, 400, 404)
  async update(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'review queue') id: string,
    @Body() dto: UpdateReviewQueueDto,
  ): Promise<ReviewQueueDto> {
    return toReviewQueueDto(await this.queues.update(principal, id, dto));
  }

  @Delete('review-queue/:id')
  @HttpCode(204)
  @ApiWrite({ ifMatch: true })
  @ApiOperation({
    summary: 'Delete a review queue',
    description:
      'Removes a queue without reviews, with its items. One with reviews is archived instead ' +
      '(archived_at set): it takes no new items, claims or reviews, and stays readable.',
  })
  @ApiErrors({ status: 204, description: 'Queue removed or archived' }, 400, 404)
  async remove(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'review queue') id: string,
  ): Promise<void> {
    await this.queues.remove(principal, id);
  }

  @Post('review-queue/:id/items')
  @ApiWrite()
  @ApiOperation({
    summary: 'Queue items',
    description:
      'Adds up to 1,000 targets (a run, one output of it, or one field inside that output) ' +
      'to the queue, in order. A target already queued is not added again: the answer says ' +
      'which were added and which were already there.',
  })
  @ApiErrors(
    {
      status: 201,
      type: QueueItemsAddedDto,
      description: 'Targets queued, and those already there',
    },
    400,
    404,
  )
  addItems(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'review queue') id: string,
    @Body() dto: AddQueueItemsDto,
  ): Promise<QueueItemsAddedDto> {
    return this.queues.addItems(principal, id, dto);
  }

  @Get('review-queue/:id/items')
  @ApiOperation({
    summary: 'List the items of a review queue',
    description: 'Its items in the order they were queued, by status if asked.',
  })
  @ApiPaged(ReviewQueueItemDto, 'Items, in the order they were queued', 404)
  async listItems(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'review queue') id: string,
    @Query() query: ListQueueItemsQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReviewQueueItemDto[]> {
    const page = await this.queues.listItems(principal, id, query);
    linkNextPage(request, reply, page.next);
    return page.items;
  }

  @Get('review-queue/:id/progress')
  @ApiOperation({
    summary: 'Progress of a review queue',
    description: 'Its items by status, and reviews and live reservations by reviewer.',
  })
  @ApiErrors({ status: 200, type: ProgressDto, description: 'The progress' }, 400, 404)
  progress(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'review queue') id: string,
  ): Promise<ProgressDto> {
    return this.queues.progress(principal, id);
  }

  @Post('review-queue/:id/claim')
  @HttpCode(200)
  @ApiWrite()
  @ApiOperation({
    summary: 'Claim an item to review',
    description:
      'Reserves for you (the token’s sub) the oldest item you have not reviewed that still ' +
      'needs a review nobody holds, for the queue’s reservation_seconds. Claiming again ' +
      'while you hold one gives the same item with a new expiry. 204 when there is none.',
  })
  @ApiErrors({ status: 200, type: ClaimDto, description: 'The item, reserved for you' }, 400, 404)
  @ApiErrors({ status: 204, description: 'No item needs you now' })
  async claim(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'review queue') id: string,
  ): Promise<ClaimDto | Answer> {
    const claimed = await this.queues.claim(principal, id);
    return claimed ?? new Answer(HttpStatus.NO_CONTENT, undefined, false);
  }

  @Post('review-queue/:id/item/:item_id/release')
  @HttpCode(200)
  @ApiWrite()
  @ApiOperation({
    summary: 'Release a claimed item',
    description: 'Gives back your reservation of the item; without one, nothing changes.',
  })
  @ApiErrors({ status: 200, type: ReviewQueueItemDto, description: 'The item' }, 400, 404)
  release(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'review queue') id: string,
    @UuidParam('item_id', 'item') itemId: string,
  ): Promise<ReviewQueueItemDto> {
    return this.queues.release(principal, id, itemId);
  }

  @Post('review-queue/:id/item/:item_id/reviews')
  @ApiWrite()
  @ApiOperation({
    summary: 'Review an item',
    description:
      'Creates your evaluations of the item’s target, one per label of the queue (every ' +
      'rule of an evaluation applies), and the review, in one write. 409 when you already ' +
      'reviewed the item, or hold no live reservation while it has no place left; a review ' +
      'without a reservation is accepted while a place is free.',
  })
  @ApiErrors({ status: 201, type: ReviewDto, description: 'Review recorded' }, 400, 404)
  async review(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'review queue') id: string,
    @UuidParam('item_id', 'item') itemId: string,
    @Body() dto: CreateReviewDto,
  ): Promise<ReviewDto> {
    const review = await this.queues.review(principal, id, itemId, dto);
    return {
      id: review.id,
      queue_id: id,
      item_id: itemId,
      reviewer: review.reviewer,
      comment: review.comment,
      evaluations: review.evaluations.map(toRunEvaluationDto),
      item_completed: review.completed,
      created_at: review.createdAt,
    };
  }

  @Get('review-queue/:id/agreement')
  @ApiOperation({
    summary: 'Agreement between reviewers',
    description:
      "Per label, Krippendorff's alpha across the queue's reviewers (nominal for binary and " +
      'categorical labels, ordinal for ordinal, interval for continuous), over the current ' +
      'values of the reviews’ evaluations, with the items and values it rests on.',
  })
  @ApiErrors({ status: 200, type: AgreementDto, description: 'Alpha per label' }, 400, 404)
  agreement(
    @CurrentPrincipal() principal: Principal,
    @UuidParam('id', 'review queue') id: string,
  ): Promise<AgreementDto> {
    return this.queues.agreement(principal, id);
  }
}
