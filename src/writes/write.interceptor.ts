import {
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, lastValueFrom, map, type Observable } from 'rxjs';
import type { Principal } from '../auth/principal.js';
import type { WriteAnswer } from './answer.js';
import { ETAGGED } from './etagged.decorator.js';
import { requestPrincipal, WritePipeline } from './write-pipeline.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Puts every POST, PUT, PATCH and DELETE of Assay's controllers through the write pipeline.
 * Reads go without it (their ETags: conditionalGet).
 */
@Injectable()
export class WriteInterceptor implements NestInterceptor {
  constructor(
    private readonly pipeline: WritePipeline,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { user?: Principal }>();
    const reply = http.getResponse<FastifyReply>();
    const etagged = this.reflector.get<boolean>(ETAGGED, context.getHandler()) === true;
    const status =
      this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ??
      (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    // The route's services get the request's own principal, which carries its write.
    const principal = (request.user = requestPrincipal(request.user!));
    const answer = this.pipeline.request(
      {
        principal,
        method: request.method,
        route: request.routeOptions.url ?? request.url,
        params: request.params,
        query: request.query,
        body: request.body,
        headers: request.headers,
        status,
        etagged,
      },
      () => lastValueFrom(next.handle(), { defaultValue: undefined }),
    );
    return from(answer).pipe(map((a) => send(reply, a, status)));
  }
}

/** A write's answer as Nest sends it: the value itself when the status is the route's own. */
function send(reply: FastifyReply, answer: WriteAnswer, status: number): unknown {
  void reply.headers(answer.headers);
  if (answer.replayed) {
    void reply.header('Idempotent-Replayed', 'true');
    return new Response(answer.replayed.text, {
      status: answer.status,
      headers: answer.replayed.text === null ? {} : { 'Content-Type': JSON_TYPE },
    });
  }
  // Another status without a body (a 204 where the route usually answers 200): no JSON type.
  if (answer.text === undefined) {
    return answer.status === status ? undefined : new Response(null, { status: answer.status });
  }
  if (answer.status !== status) {
    return new Response(answer.text, {
      status: answer.status,
      headers: { 'Content-Type': JSON_TYPE },
    });
  }
  // The JSON made for the ETag is sent as it is, not serialized again.
  void reply.type(JSON_TYPE);
  return answer.text;
}
