import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Histogram } from 'prom-client';
import { metric } from './registry.js';

/** OpenTelemetry's advice for http.server.request.duration, in seconds. */
export const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];
const HTTP_DURATION = 'http_server_request_duration_seconds';

/** The route of a request that matched none: one value, so that scanners add no series. */
export const UNMATCHED_ROUTE = 'unmatched';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

type Child = ReturnType<Histogram['labels']>;

/**
 * Times every answer by method, route template (`/v1/run/:id/evaluations`, never the URL)
 * and status, as OpenTelemetry's http.server.request.duration: from Fastify's onRequest to
 * the end of the answer (`reply.elapsedTime`). Any other method counts as `_OTHER`.
 */
@Injectable()
export class HttpMetrics implements OnModuleInit {
  // One child per label set, so that an answer costs a map look-up, not a label hash.
  private readonly children = new Map<string, Child>();
  private readonly duration = metric(
    HTTP_DURATION,
    () =>
      new Histogram({
        name: HTTP_DURATION,
        help: 'Duration of HTTP server requests, by method, route template and status.',
        labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
        buckets: DURATION_BUCKETS,
      }),
  );

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    // The Express adapter serves only the benchmark's comparison; it is not timed.
    if (adapter.getType() !== 'fastify') return;
    const fastify = adapter.getInstance<FastifyInstance>();
    fastify.addHook('onResponse', (request, reply, done) => {
      this.observe(request, reply);
      done();
    });
  }

  private observe(request: FastifyRequest, reply: FastifyReply): void {
    const method = METHODS.has(request.method) ? request.method : '_OTHER';
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const key = `${method} ${reply.statusCode} ${route}`;
    let child = this.children.get(key);
    if (!child) {
      child = this.duration.labels(method, route, String(reply.statusCode));
      this.children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
  }
}
