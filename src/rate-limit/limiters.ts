import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Settings } from '../config/settings.js';
import type { MetricsService } from '../metrics/metrics.service.js';

/** What the guard asks of a limiter: rate-limiter-flexible's consume, and its figures. */
export interface AccountLimiter {
  readonly points: number;
  readonly duration: number;
  /** Resolves while the key has points left; rejects with a RateLimiterRes when it has none. */
  consume(key: string): Promise<RateLimiterRes>;
}

/**
 * The longest a request waits for Redis before it is counted in memory instead. Redis
 * answers in well under a millisecond; the margin is for this process's own event loop,
 * busy with a burst.
 */
export const REDIS_TIMEOUT_MS = 500;
/** While Redis is failing, it is tried again at most this often; other requests skip it. */
export const RETRY_MS = 1000;

/**
 * `work`, or an error once REDIS_TIMEOUT_MS have passed without its answer. A timer that
 * fires late, after this process's event loop was busy, runs before the loop reads what
 * came meanwhile: the deadline looks once more after that read (setImmediate), so that a
 * busy process does not take an answer waiting in its socket for a slow Redis.
 */
function withinDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        setImmediate(() => reject(new Error(`Redis did not answer within ${REDIS_TIMEOUT_MS} ms`))),
      REDIS_TIMEOUT_MS,
    );
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

type LimitSettings = Pick<Settings, 'RATE_LIMIT' | 'RATE_LIMIT_WINDOW'>;

const memoryLimiter = (s: LimitSettings) =>
  new RateLimiterMemory({ points: s.RATE_LIMIT, duration: s.RATE_LIMIT_WINDOW });

/**
 * The limit counted in Redis, so that every instance shares it, with an in-memory limiter
 * as insurance: while Redis fails (unreachable, or slower than REDIS_TIMEOUT_MS), this
 * process counts alone and answers as ever, never with a 500. The fall back and the return
 * are logged once each, not once per request.
 */
export class SharedAccountLimiter implements AccountLimiter, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('RateLimit');
  private readonly redis: Redis;
  private readonly shared: RateLimiterRedis;
  private readonly local: RateLimiterMemory;
  private fallenBack = false;
  private retryAt = 0;

  constructor(
    settings: LimitSettings & Pick<Settings, 'REDIS_URL' | 'REDIS_KEY_PREFIX'>,
    private readonly metrics?: MetricsService,
  ) {
    this.redis = new Redis(settings.REDIS_URL!, {
      lazyConnect: true,
      // Disconnected, a command fails at once rather than queueing until Redis is back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Requests stop waiting at REDIS_TIMEOUT_MS (withinDeadline); this only bounds how long
      // commands a hung Redis never answers stay queued.
      commandTimeout: 10 * REDIS_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    });
    // Every failure also fails a command, and consume() logs the change of state.
    this.redis.on('error', () => undefined);
    this.shared = new RateLimiterRedis({
      storeClient: this.redis,
      rejectIfRedisNotReady: true,
      keyPrefix: `${settings.REDIS_KEY_PREFIX}rate-limit`,
      points: settings.RATE_LIMIT,
      duration: settings.RATE_LIMIT_WINDOW,
    });
    this.local = memoryLimiter(settings);
  }

  get points(): number {
    return this.shared.points;
  }

  get duration(): number {
    return this.shared.duration;
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.redis.connect();
      this.metrics?.rateLimitShared(true);
    } catch (err) {
      // ioredis keeps reconnecting; the service starts and counts in memory meanwhile.
      this.fallBack(err);
    }
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }

  async consume(key: string): Promise<RateLimiterRes> {
    if (this.fallenBack && Date.now() < this.retryAt) return this.local.consume(key);
    try {
      const answer = await withinDeadline(this.shared.consume(key));
      this.recovered();
      return answer;
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        this.recovered();
        throw err;
      }
      this.fallBack(err);
      return this.local.consume(key);
    }
  }

  private fallBack(err: unknown): void {
    this.retryAt = Date.now() + RETRY_MS;
    if (this.fallenBack) return;
    this.fallenBack = true;
    this.metrics?.rateLimitShared(false);
    this.logger.warn(
      `Redis does not answer (${err instanceof Error ? err.message : String(err)}): ` +
        'each instance now counts the rate limit alone, in memory, until Redis is back.',
    );
  }

  private recovered(): void {
    if (!this.fallenBack) return;
    this.fallenBack = false;
    this.metrics?.rateLimitShared(true);
    this.logger.log('Redis answers again: the rate limit is shared by every instance again.');
  }
}

/** The limiter the settings ask for: shared through Redis when REDIS_URL is set. */
export function accountLimiter(
  settings: LimitSettings & Pick<Settings, 'REDIS_URL' | 'REDIS_KEY_PREFIX'>,
  metrics?: MetricsService,
): AccountLimiter {
  return settings.REDIS_URL ? new SharedAccountLimiter(settings, metrics) : memoryLimiter(settings);
}
