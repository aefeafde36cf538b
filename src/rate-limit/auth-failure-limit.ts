import type { FastifyReply } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../common/api-error.js';
import type { Settings } from '../config/settings.js';

type RetryAfterReply = Pick<FastifyReply, 'header'>;

/**
 * Limits requests whose token is refused, per client address: BAD_TOKEN_LIMIT per window
 * of RATE_LIMIT_WINDOW seconds. Past it, the address gets 429 for any token not already
 * verified, without the token being checked, so a flood of forged or guessed tokens costs
 * neither a signature check nor a JWKS fetch; a client whose token passed before goes on.
 */
export class AuthFailureLimit {
  private readonly limiter: RateLimiterMemory;

  constructor(settings: Pick<Settings, 'BAD_TOKEN_LIMIT' | 'RATE_LIMIT_WINDOW'>) {
    this.limiter = new RateLimiterMemory({
      points: settings.BAD_TOKEN_LIMIT,
      duration: settings.RATE_LIMIT_WINDOW,
    });
  }

  /** Throws a 429 when the address has used up its refused tokens for this window. */
  async check(ip: string, reply: RetryAfterReply): Promise<void> {
    const used = await this.limiter.get(ip);
    if (used && used.consumedPoints >= this.limiter.points) throw this.refusal(ip, used, reply);
  }

  /** Counts a refused token; the refusal stays a 401 unless the address is past its limit. */
  async record(ip: string, refusal: ApiError, reply: RetryAfterReply): Promise<ApiError> {
    try {
      await this.limiter.consume(ip);
      return refusal;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      return this.refusal(ip, res, reply);
    }
  }

  private refusal(ip: string, res: RateLimiterRes, reply: RetryAfterReply): ApiError {
    const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    reply.header('Retry-After', retryAfter);
    return new ApiError(
      'rate_limited',
      `Address ${ip} sent more than ${this.limiter.points} requests with a refused token in ` +
        `${this.limiter.duration} s; get a valid token and retry after ${retryAfter} s.`,
    );
  }
}
