import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ApiError } from '../common/api-error.js';
import type { Principal } from './principal.js';
import { JWT_STRATEGY } from './jwt.strategy.js';
import { IS_PUBLIC } from './public.decorator.js';

/** jsonwebtoken's and jwks-rsa's reasons, as a person can act on them. */
function reason(info: unknown): string {
  const message = info instanceof Error ? info.message : typeof info === 'string' ? info : '';
  const name = info instanceof Error ? info.name : '';
  if (name === 'TokenExpiredError') return 'The token has expired; get a new one.';
  if (name === 'NotBeforeError') return 'The token is not valid yet (nbf is in the future).';
  if (/No auth token/i.test(message)) {
    return 'Authentication required: send Authorization: Bearer <JWT>.';
  }
  if (/signature/i.test(message)) return 'The token was refused: its signature is not valid.';
  if (/algorithm/i.test(message)) return 'The token was refused: its algorithm is not accepted.';
  if (/malformed|invalid token|unexpected token|jwt must be/i.test(message)) {
    return 'The token was refused: it is not a well-formed JWT.';
  }
  if (/audience|issuer/i.test(message)) return `The token was refused: ${message}.`;
  if (/signing key|kid/i.test(message)) {
    return 'The token was refused: its signing key (kid) is not one the identity provider publishes.';
  }
  return 'The token was refused.';
}

const VERIFIED = Symbol('assay:verified');

/**
 * Every route needs a valid bearer token unless marked @Public(). Assay's app installs it
 * globally (deny by default); Assay's controllers carry it too, for host apps that import
 * them. A request it has already let through is not verified twice.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<{ [VERIFIED]?: boolean }>();
    return request[VERIFIED] === true || super.canActivate(context);
  }

  override handleRequest<T = Principal>(
    err: unknown,
    user: T | false,
    info: unknown,
    context: ExecutionContext,
  ): T {
    if (err instanceof ApiError) throw err;
    if (err || !user) throw new ApiError('unauthorized', reason(err ?? info));
    context.switchToHttp().getRequest<{ [VERIFIED]?: boolean }>()[VERIFIED] = true;
    return user;
  }
}
