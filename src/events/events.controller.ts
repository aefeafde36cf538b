import { Get, Headers, Query, Req, Res } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiHeader,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import type { Principal } from '../auth/principal.js';
import { negotiate } from '../common/accept.js';
import { ApiController } from '../common/api-controller.js';
import { toInt, UuidProperty } from '../common/validation.js';
import { ApiErrors } from '../openapi/decorators.js';
import { AssayEventDto } from './dto/assay-event.dto.js';
import { EventsService } from './events.service.js';

/** The most events one JSON page holds, and how many it holds when `limit` is not given. */
export const MAX_EVENTS_PAGE = 1000;
export const DEFAULT_EVENTS_PAGE = 100;

// A page of events first, so that JSON wins a tie of q-values: */*, what Swagger UI sends.
const EVENT_TYPES = ['application/json', 'text/event-stream'] as const;

export class ListEventsQueryDto {
  @UuidProperty({ required: false, description: 'Only events after this one (its id)' })
  @IsOptional()
  after?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_EVENTS_PAGE,
    default: DEFAULT_EVENTS_PAGE,
    type: 'integer',
  })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'limit must be a whole number from 1 to 1000' })
  @Min(1, { message: 'limit must be a whole number from 1 to 1000' })
  @Max(MAX_EVENTS_PAGE, { message: 'limit must be a whole number from 1 to 1000' })
  limit?: number;
}

@ApiTags('Events')
@ApiExtraModels(AssayEventDto)
@ApiController('v1')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get('events')
  @ApiOperation({
    summary: 'Change events of your account',
    description:
      'Every create, update and delete of an evaluation, run, label or evaluator. As ' +
      'Server-Sent Events (`event:` the type, `id:` the event id, `data:` the event): ' +
      'without Last-Event-ID from now on; with it, every kept event after that one first, ' +
      'then live, with no gap and no repeat. With `Accept: application/json`: a page of ' +
      'events oldest first, after `?after=` (or from the oldest kept), with a Link to the next. ' +
      'Accept is negotiated with its q-values, JSON winning ties: `*/*` or none gets the page, ' +
      '`text/event-stream` (what EventSource sends) the stream.',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Server-Sent Events: resume after this event',
  })
  @ApiErrors(
    {
      status: 200,
      description: 'The events (JSON, a bare array), or a stream of them',
      headers: {
        Link: {
          description: 'JSON: when more events remain, `<url of the next page>; rel="next"`',
          schema: { type: 'string' },
        },
      },
      content: {
        'application/json': {
          schema: { type: 'array', items: { $ref: getSchemaPath(AssayEventDto) } },
        },
        'text/event-stream': {
          schema: { type: 'string', description: 'Server-Sent Events, one per change' },
        },
      },
    },
    400,
    404,
    406,
  )
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListEventsQueryDto,
    @Headers('accept') accept: string | undefined,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    this.events.assertEnabled();
    if (negotiate(accept, EVENT_TYPES) === 'application/json') {
      const page = await this.events.page(
        principal,
        query.after,
        query.limit ?? DEFAULT_EVENTS_PAGE,
      );
      if (page.next) {
        const url = new URL(request.url, 'http://assay.invalid');
        url.searchParams.set('after', page.next);
        void reply.header('Link', `<${url.pathname}${url.search}>; rel="next"`);
      }
      await reply.send(page.items);
      return;
    }
    await this.events.stream(principal, lastEventId, request, reply);
  }
}
