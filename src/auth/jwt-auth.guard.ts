import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../common/api-error.js';
import { AuthFailureLimit } from '../rate-limit/auth-failure-limit.js';
import { bearerToken, JwtStrategy } from './jwt.strategy.js';
import type { Principal } from './principal.js';
import { isPublic } from './public.decorator.js';

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

interface AuthRequest {
  ip: string;
  user?: Principal;
  [VERIFIED]?: boolean;
}

function accept(request: AuthRequest, user: Principal): void {
  request.user = user;
  request[VERIFIED] = true;
}

/** One authentication attempt: the strategy, with passport's three outcomes bound to it. */
interface Attempt {
  authenticate(request: AuthRequest, options: object): void;
  success(user: Principal): void;
  fail(info: unknown): void;
  error(err: unknown): void;
}

/**
 * Every route needs a valid bearer token unless marked @Public(). Assay's app installs it
 * globally (deny by default); Assay's controllers carry it too, for host apps that import
 * them. A request it has already let through is not verified twice.
 *
 * The token is verified by passport-jwt's strategy, run the way passport.authenticate runs
 * it but without the session helpers (logIn, logOut, isAuthenticated…) that it attaches to
 * every request: a stateless bearer API has no use for them, and the benchmark measured
 * them keeping whole requests alive past the young-generation GC. Without them, GET of one
 * evaluation spent a third of the time in GC pauses and served 75% more requests/s.
 * A token that passed is remembered (VerifiedTokens) and not verified again until it must be.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private strategy?: JwtStrategy;
  private failures?: AuthFailureLimit | null;

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthRequest>();
    // Let through already (the global guard, then the controller's): no need to look again.
    if (request[VERIFIED] === true || isPublic(this.reflector, context)) return true;
    // Looked up, not injected: the guard also runs in feature modules that cannot see it.
    const strategy = (this.strategy ??= this.moduleRef.get(JwtStrategy, { strict: false }));
    // The strategy's own extractor: the cache is keyed by exactly what it verifies.
    const token = (bearerToken as (r: AuthRequest) => string | null)(request);
    const known = token && strategy.verified.get(token);
    if (known) {
      accept(request, known);
      return true;
    }
    return this.verify(strategy, request, token, context.switchToHttp().getResponse());
  }

  /** The limit of refused tokens per address, when the app installs one (Assay's does). */
  private failureLimit(): AuthFailureLimit | null {
    if (this.failures === undefined) {
      try {
        this.failures = this.moduleRef.get(AuthFailureLimit, { strict: false });
      } catch {
        this.failures = null;
      }
    }
    return this.failures;
  }

  private async verify(
    strategy: JwtStrategy,
    request: AuthRequest,
    token: string | null,
    reply: FastifyReply,
  ): Promise<boolean> {
    const failures = this.failureLimit();
    await failures?.check(request.ip, reply);
    try {
      return await this.attempt(strategy, request, token);
    } catch (err) {
      if (failures && err instanceof ApiError && err.code === 'unauthorized') {
        throw await failures.record(request.ip, err, reply);
      }
      throw err;
    }
  }

  private attempt(strategy: JwtStrategy, request: AuthRequest, token: string | null) {
    return new Promise<boolean>((resolve, reject) => {
      const attempt = Object.create(strategy) as Attempt;
      attempt.success = (user) => {
        if (token) strategy.verified.remember(token, user);
        accept(request, user);
        resolve(true);
      };
      attempt.fail = (info) => reject(new ApiError('unauthorized', reason(info)));
      attempt.error = (err) =>
        reject(err instanceof ApiError ? err : new ApiError('unauthorized', reason(err)));
      attempt.authenticate(request, {});
    });
  }
}
