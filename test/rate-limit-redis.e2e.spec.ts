import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TEST_SECRET, token } from './support/app.js';
import { ensureBuilt, freePort, type ServerProcess, startServer } from './support/server.js';
import { sample } from './support/metrics.js';
import { REDIS_TIMEOUT_MS, SharedAccountLimiter } from '../src/rate-limit/limiters.js';
import {
  type PrivateRedis,
  redisClient,
  SHARED_REDIS_URL,
  startPrivateRedis,
} from './support/redis.js';
import { describeWith } from './support/services.js';

const FELL_BACK = 'Redis does not answer';
const RECOVERED = 'Redis answers again';

const lines = (instance: ServerProcess, text: string) =>
  instance.lines
    .join('\n')
    .split('\n')
    .filter((l) => l.includes(text)).length;

async function statuses(instance: ServerProcess, account: string, count: number) {
  const headers = { authorization: `Bearer ${token({ account })}` };
  const answers = [];
  for (let i = 0; i < count; i++) {
    const started = Date.now();
    const res = await fetch(`${instance.url}/v1/runs`, { headers });
    answers.push({ status: res.status, ms: Date.now() - started });
  }
  return answers;
}

const shared = async (instance: ServerProcess) =>
  sample(await (await fetch(`${instance.url}/metrics`)).text(), 'assay_rate_limit_shared');

function settings(redisUrl: string, prefix: string): Record<string, string> {
  return {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'assay-redis-')),
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'info',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    RATE_LIMIT: '5',
    RATE_LIMIT_WINDOW: '60',
  };
}

describeWith('Redis')('the rate limit in Redis, when Redis fails', () => {
  let redis: PrivateRedis;
  let instance: ServerProcess;
  const prefix = `assay-test-${randomUUID()}:`;

  beforeAll(async () => {
    ensureBuilt();
    redis = await startPrivateRedis();
    instance = await startServer(settings(redis.url, prefix));
  });
  afterAll(async () => {
    await instance?.stop();
    await redis?.kill();
  });

  it('counts in Redis, falls back to memory when Redis dies (logged once, never a 500, no wait), and shares again when it is back', async () => {
    const a = `acme-${randomUUID()}`;
    expect((await statuses(instance, a, 3)).map((x) => x.status)).toEqual([200, 200, 200]);
    const client = redisClient(redis.url);
    await client.connect();
    expect(await client.get(`${prefix}rate-limit:account:${a}`)).toBe('3');
    client.disconnect();
    expect(await shared(instance)).toBe(1);

    await redis.kill();
    const b = `acme-${randomUUID()}`;
    const during = await statuses(instance, b, 7);
    // Each instance now counts alone, with the same limit.
    expect(during.map((x) => x.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    for (const x of during) expect(x.ms).toBeLessThan(1000);
    expect(await shared(instance)).toBe(0);
    await statuses(instance, `acme-${randomUUID()}`, 3);
    expect(lines(instance, FELL_BACK)).toBe(1);
    expect(lines(instance, RECOVERED)).toBe(0);

    await redis.restart();
    // ioredis reconnects with a backoff of at most 2 s; requests meanwhile are counted in memory.
    const c = `acme-${randomUUID()}`;
    for (let i = 0; i < 50 && (await shared(instance)) === 0; i++) {
      await statuses(instance, c, 1);
      await sleep(200);
    }
    expect(await shared(instance)).toBe(1);
    const d = `acme-${randomUUID()}`;
    expect((await statuses(instance, d, 2)).map((x) => x.status)).toEqual([200, 200]);
    const fresh = redisClient(redis.url);
    await fresh.connect();
    expect(await fresh.get(`${prefix}rate-limit:account:${d}`)).toBe('2');
    fresh.disconnect();
    expect(lines(instance, FELL_BACK)).toBe(1);
    expect(lines(instance, RECOVERED)).toBe(1);
    expect(instance.lines.join('\n')).not.toMatch(/"level":50|Unhandled/);
  });

  it('bounds the wait when Redis hangs without closing the connection', async () => {
    redis.signal('SIGSTOP');
    try {
      const during = await statuses(instance, `acme-${randomUUID()}`, 7);
      expect(during.map((x) => x.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
      for (const x of during) expect(x.ms).toBeLessThan(1000);
      expect(lines(instance, FELL_BACK)).toBe(2);
    } finally {
      redis.signal('SIGCONT');
    }
  });
});

describe('an instance whose Redis is down from the start', () => {
  it('starts, serves and limits in memory, and says so once', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const instance = await startServer(settings(nowhere, 'unused:'));
    try {
      const answers = await statuses(instance, `acme-${randomUUID()}`, 7);
      expect(answers.map((x) => x.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
      for (const x of answers) expect(x.ms).toBeLessThan(1000);
      await sleep(1500);
      await statuses(instance, `acme-${randomUUID()}`, 2);
      expect(lines(instance, FELL_BACK)).toBe(1);
    } finally {
      await instance.stop();
    }
  });
});

describeWith('Redis')('the shared limiter in a process whose event loop was busy', () => {
  it('reads the answer Redis sent meanwhile rather than counting alone', async () => {
    const prefix = `assay-test-${randomUUID()}:`;
    const limiter = new SharedAccountLimiter({
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      RATE_LIMIT: 5,
      RATE_LIMIT_WINDOW: 60,
    });
    await limiter.onModuleInit();
    const redis = redisClient(SHARED_REDIS_URL);
    await redis.connect();
    try {
      const key = `acme-${randomUUID()}`;
      await limiter.consume(key);
      const pending = limiter.consume(key);
      // Redis answers at once; this process only reads it after twice the deadline.
      const until = Date.now() + 2 * REDIS_TIMEOUT_MS;
      while (Date.now() < until);
      expect((await pending).consumedPoints).toBe(2);
      expect(await redis.get(`${prefix}rate-limit:${key}`)).toBe('2');
    } finally {
      limiter.onModuleDestroy();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
