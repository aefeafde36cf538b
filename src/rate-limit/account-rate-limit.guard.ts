import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Optional,
  type Provider,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { Principal } from '../auth/principal.js';
import { isPublic } from '../auth/public.decorator.js';
import { ApiError } from '../common/api-error.js';
import type { Settings } from '../config/settings.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { AuthFailureLimit } from './auth-failure-limit.js';
import { type AccountLimiter, accountLimiter } from './limiters.js';

const RATE_LIMITER = Symbol('assay:rate-limiter');

/**
 * Limits requests per account, over all routes together, so that one busy account cannot
 * starve the others: RATE_LIMIT requests per fixed window of RATE_LIMIT_WINDOW seconds,
 * counted in Redis when REDIS_URL is set (shared by every instance), else in this process.
 * It runs after the JWT guard, which has put the principal on
 * the request; a request without one is counted by its IP address. Health probes are never
 * limited.
 */
@Injectable()
export class AccountRateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(RATE_LIMITER) private readonly limiter: AccountLimiter,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (isPublic(this.reflector, context)) return true;
    const http = context.switchToHttp();
    const { user, ip } = http.getRequest<{ user?: Principal; ip: string }>();
    const reply = http.getResponse<FastifyReply>();
    const { points, duration } = this.limiter;
    let answer: RateLimiterRes;
    try {
      answer = await this.limiter.consume(user ? `account:${user.accountId}` : `ip:${ip}`);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      this.metrics?.rateLimited();
      const retryAfter = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      reply.header('Retry-After', retryAfter);
      const who = user ? `Account "${user.accountId}"` : 'This address';
      throw new ApiError(
        'rate_limited',
        `${who} has made more than ${points} requests in ${duration} s; ` +
          `retry after ${retryAfter} s (the Retry-After header).`,
      );
    }
    reply.header('X-RateLimit-Limit', points);
    reply.header('X-RateLimit-Remaining', answer.remainingPoints);
    reply.header('X-RateLimit-Reset', Math.ceil(answer.msBeforeNext / 1000));
    return true;
  }
}

/**
 * The rate limit as global guard and its counter, none when RATE_LIMIT is 0; and the limit
 * of refused tokens per address (AuthFailureLimit, used by the JWT guard) unless it is 0. List it after
 * the JWT guard: global guards run in the order they are provided.
 */
export function rateLimitProviders(settings: Settings): Provider[] {
  const failures: Provider[] =
    settings.BAD_TOKEN_LIMIT === 0
      ? []
      : [{ provide: AuthFailureLimit, useValue: new AuthFailureLimit(settings) }];
  if (settings.RATE_LIMIT === 0) return failures;
  return [
    ...failures,
    {
      provide: RATE_LIMITER,
      inject: [{ token: MetricsService, optional: true }],
      useFactory: (metrics?: MetricsService) => accountLimiter(settings, metrics),
    },
    { provide: APP_GUARD, useClass: AccountRateLimitGuard },
  ];
}
