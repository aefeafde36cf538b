import { describe, expect, it } from '@jest/globals';
import { loadSettings } from './settings.js';

const secret = 's'.repeat(32);

describe('loadSettings', () => {
  it('has defaults for everything', () => {
    const s = loadSettings({});
    expect(s).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATA_DIR: './data',
      LOG_LEVEL: 'info',
      BODY_LIMIT: 1048576,
      RATE_LIMIT: 6000,
      RATE_LIMIT_WINDOW: 60,
      REDIS_KEY_PREFIX: 'assay:',
      METRICS_ENABLED: true,
      EVENTS_ENABLED: true,
      DB_STATS_TIMEOUT: 30,
      DB_POOL_SIZE: 32,
    });
    expect(s.DATABASE_URL).toBeUndefined();
    expect(s.REDIS_URL).toBeUndefined();
  });

  it('reads and converts what is set, ignoring empty values', () => {
    const s = loadSettings({
      PORT: '8080',
      BODY_LIMIT: '2048',
      RATE_LIMIT: '0',
      RATE_LIMIT_WINDOW: '10',
      DB_STATS_TIMEOUT: '2.5',
      DB_POOL_SIZE: '8',
      DATABASE_URL: 'postgres://u@h/db',
      JWT_SECRET: secret,
      HOST: '',
      REDIS_URL: 'redis://127.0.0.1:6379/2',
      REDIS_KEY_PREFIX: 'team-a:',
      METRICS_ENABLED: 'false',
      EVENTS_ENABLED: 'false',
    });
    expect(s).toMatchObject({
      PORT: 8080,
      BODY_LIMIT: 2048,
      RATE_LIMIT: 0,
      RATE_LIMIT_WINDOW: 10,
      DB_STATS_TIMEOUT: 2.5,
      DB_POOL_SIZE: 8,
      DATABASE_URL: 'postgres://u@h/db',
      HOST: '0.0.0.0',
      REDIS_URL: 'redis://127.0.0.1:6379/2',
      REDIS_KEY_PREFIX: 'team-a:',
      METRICS_ENABLED: false,
      EVENTS_ENABLED: false,
    });
  });

  it.each([
    [{ PORT: 'abc' }, /PORT: must be a whole number/],
    [{ PORT: '70000' }, /PORT/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres/],
    [{ JWT_SECRET: 'short' }, /JWT_SECRET: must be at least 32 bytes/],
    [{ JWT_SECRET: secret, JWT_JWKS_URL: 'https://id/jwks' }, /set only one/],
    [{ JWT_JWKS_URL: 'not a url' }, /JWT_JWKS_URL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: must be one of/],
    [{ BODY_LIMIT: '10' }, /BODY_LIMIT/],
    [{ RATE_LIMIT: '-1' }, /RATE_LIMIT: must be a whole number of requests, 0 for no limit/],
    [{ RATE_LIMIT: 'lots' }, /RATE_LIMIT: must be a whole number/],
    [{ RATE_LIMIT_WINDOW: '0' }, /RATE_LIMIT_WINDOW: must be a whole number of seconds/],
    [{ RATE_LIMIT_WINDOW: '1.5' }, /RATE_LIMIT_WINDOW/],
    [{ DB_STATS_TIMEOUT: '0' }, /DB_STATS_TIMEOUT: must be a number of seconds/],
    [{ DB_STATS_TIMEOUT: 'soon' }, /DB_STATS_TIMEOUT: must be a number of seconds/],
    [{ DB_STATS_TIMEOUT: '3601' }, /DB_STATS_TIMEOUT/],
    [{ DB_POOL_SIZE: '0' }, /DB_POOL_SIZE: must be a whole number of connections from 1 to 1000/],
    [{ NODE_ENV: 'production' }, /one is required when NODE_ENV is production/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ REDIS_KEY_PREFIX: 'a b' }, /REDIS_KEY_PREFIX/],
    [{ METRICS_ENABLED: 'yes' }, /METRICS_ENABLED: must be true or false/],
    [{ EVENTS_ENABLED: 'off' }, /EVENTS_ENABLED: must be true or false/],
    [
      { EVENTS_ENABLED: 'false', NATS_URL: 'nats://127.0.0.1:4222' },
      /NATS_URL: EVENTS_ENABLED is false, so there are no events to relay/,
    ],
  ])('refuses %j naming the setting', (env, message) => {
    expect(() => loadSettings(env)).toThrow(message);
  });
});
