import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { etagOfText, matchesWeakly, parseEntityTags } from './etag.js';

/** The key of Fastify's route config that marks a GET of one resource (see ETaggedRead). */
export const ETAG_READ = 'assayETagRead';

declare module 'fastify' {
  interface FastifyContextConfig {
    [ETAG_READ]?: boolean;
  }
}

type Done = (err: Error | null, payload?: unknown) => void;

/**
 * A GET (or HEAD) of one resource, answered 200: its ETag, made of the JSON exactly as it is
 * sent, and 304 without a body when If-None-Match names it. A Fastify onSend hook rather
 * than an interceptor: the body is serialized once, by Fastify, and hashed as it is, and the
 * route goes without the rxjs pipeline an interceptor wraps it in.
 */
export function conditionalGet(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: Done,
): void {
  if (
    reply.statusCode !== 200 ||
    typeof payload !== 'string' ||
    request.routeOptions.config[ETAG_READ] !== true
  ) {
    return done(null, payload);
  }
  const etag = etagOfText(payload);
  void reply.header('ETag', etag);
  const tags = parseEntityTags(request.headers['if-none-match']);
  if (!tags || !matchesWeakly(tags, etag)) return done(null, payload);
  void reply.code(304).removeHeader('content-type');
  // No body. A HEAD's payload is measured by Fastify's own hook of HEAD routes, which runs
  // after this one and cannot measure none (content-length: 0, as before).
  done(null, request.method === 'HEAD' ? '' : null);
}

/** Installs conditionalGet on the app's Fastify instance, wherever Assay's routes are served. */
@Injectable()
export class ConditionalGets implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    // The Express adapter serves only the benchmark's comparison of adapters.
    if (adapter.getType() !== 'fastify') return;
    adapter.getInstance<FastifyInstance>().addHook('onSend', conditionalGet);
  }
}
