import { applyDecorators, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { ApiNoAuth } from '../openapi/decorators.js';

const IS_PUBLIC = 'assay:public';

/**
 * Opts a route out of the global JWT guard and the rate limit (health probes, docs), and
 * documents that it needs no token.
 */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(IS_PUBLIC, true), ApiNoAuth());

/** Whether the route the context runs, or its controller, is marked @Public(). */
export const isPublic = (reflector: Reflector, context: ExecutionContext): boolean =>
  reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]) ===
  true;
