import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type HttpServer } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { AllExceptionsFilter } from '../common/all-exceptions.filter.js';
import { checkQueryString } from '../common/query-string.js';
import { drainUnreadBody } from './drain.js';

/** The longest x-request-id of a caller's that is kept, in characters. */
export const MAX_REQUEST_ID = 128;
const REQUEST_ID = new RegExp(`^[\\w.:-]{1,${MAX_REQUEST_ID}}$`);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** A caller's own x-request-id is kept when it is sane; otherwise one is made. */
export function requestId(request: { headers: Record<string, unknown> }): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Where Assay's routes are in an app that hosts them, unless `prefix` says otherwise. */
export const DEFAULT_PREFIX = '/v1';

export interface AssayHttpOptions {
  /** The path prefix of Assay's routes in this app; `/` when the whole app is Assay. */
  prefix?: string;
}

/** Routes outside Assay keep whatever error handling the app had; Assay's get its body. */
@Catch()
class AssayRoutesFilter extends BaseExceptionFilter {
  private readonly assay = new AllExceptionsFilter();

  constructor(
    adapter: HttpServer,
    private readonly isAssay: (url: string) => boolean,
  ) {
    super(adapter);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    if (this.isAssay(request.url)) this.assay.catch(exception, host);
    else super.catch(exception, host);
  }
}

/**
 * Installs Assay's request handling on a Nest Fastify app, before `init()` or `listen()`:
 * every answer carries `x-request-id` (the caller's, when sane); requests to Assay's
 * routes take JSON bodies only (anything else is a 415) and query strings of text only (see
 * checkQueryString), an answer sent before a body has fully arrived is followed by reading
 * the rest (see drainUnreadBody), and every error on them, even one
 * raised by Fastify before a route runs (malformed JSON, a body too large), gets Assay's
 * one error body. Assay's own server calls it; so should an app that imports AssayModule.
 */
export function configureAssayHttp(
  app: NestFastifyApplication,
  options: AssayHttpOptions = {},
): void {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const root = prefix.replace(/\/+$/, '');
  const isAssay = (url: string) =>
    root === '' || url === root || url.startsWith(`${root}/`) || url.startsWith(`${root}?`);
  const fastify = app.getHttpAdapter().getInstance();

  // Sync hooks (a done callback; what they throw, Fastify answers as an error): neither waits
  // for anything, and an async hook costs every request a promise and a microtask.
  fastify.addHook('onRequest', (request, _reply, done) => {
    // An id the app's genReqId made (a UUID) is kept; any other is the caller's if sane.
    if (!UUID.test(String(request.id))) request.id = requestId(request);
    if (!isAssay(request.url)) return done();
    const query = request.url.indexOf('?');
    if (query >= 0) checkQueryString(request.url.slice(query + 1));
    const type = request.headers['content-type'];
    const hasBody =
      request.headers['transfer-encoding'] !== undefined ||
      Number(request.headers['content-length'] ?? 0) > 0;
    if (hasBody && type !== undefined && !JSON_TYPE.test(type)) {
      throw Object.assign(new Error(`Unsupported Media Type: ${type}`), {
        code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
        statusCode: 415,
      });
    }
    done();
  });
  // Every answer, even an error of the router's that came before any onRequest hook.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    if (isAssay(request.url)) drainUnreadBody(request, reply);
    done(null, payload);
  });
  app.useGlobalFilters(new AssayRoutesFilter(app.getHttpAdapter(), isAssay));
}
