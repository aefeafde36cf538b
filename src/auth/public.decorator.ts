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

/** Each controller's handlers, and whether they are public: metadata does not change. */
const known = new WeakMap<object, WeakMap<object, boolean>>();

/**
 * Whether the route the context runs, or its controller, is marked @Public(). Asked twice
 * per request (the JWT guard, the rate limit): the reflector's look-ups are made once per
 * route.
 */
export function isPublic(reflector: Reflector, context: ExecutionContext): boolean {
  const handler = context.getHandler();
  const controller = context.getClass();
  let handlers = known.get(controller);
  if (!handlers) known.set(controller, (handlers = new WeakMap()));
  let open = handlers.get(handler);
  if (open === undefined) {
    open = reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, controller]) === true;
    handlers.set(handler, open);
  }
  return open;
}
