import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { toBoolean, toInt } from '../common/validation.js';
import {
  DEFAULT_WEBHOOK_RETRY_SCHEDULE,
  DEFAULT_WEBHOOK_SECRET_OVERLAP,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  MAX_RETRIES,
  parseRetrySchedule,
  RETRY_SCHEDULE,
} from '../webhooks/retry-schedule.js';

/** The shortest JWT_SECRET, in bytes. */
export const MIN_JWT_SECRET_BYTES = 32;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Assay's settings, read from the environment and validated once at start. */
export class Settings {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: string = 'development';

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number from 0 to 65535' })
  @Min(0, { message: 'must be a whole number from 0 to 65535' })
  @Max(65535, { message: 'must be a whole number from 0 to 65535' })
  PORT: number = 3000;

  @IsString()
  @MinLength(1)
  HOST: string = '0.0.0.0';

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// or postgresql:// URL' })
  DATABASE_URL?: string;

  @IsString()
  @MinLength(1)
  DATA_DIR: string = './data';

  @IsOptional()
  @IsString()
  JWT_SECRET?: string;

  @IsOptional()
  @IsUrl(
    { require_tld: false, protocols: ['http', 'https'], require_protocol: true },
    { message: 'must be an http(s) URL' },
  )
  JWT_JWKS_URL?: string;

  @IsOptional()
  @IsString()
  JWT_ISSUER?: string;

  @IsOptional()
  @IsString()
  JWT_AUDIENCE?: string;

  @Matches(/^[A-Za-z0-9_:./-]+$/, { message: 'must be a claim name' })
  JWT_ACCOUNT_CLAIM: string = 'account_id';

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of bytes from 1024 to 104857600' })
  @Min(1024, { message: 'must be a whole number of bytes from 1024 to 104857600' })
  @Max(100 * 1024 * 1024, { message: 'must be a whole number of bytes from 1024 to 104857600' })
  BODY_LIMIT: number = 1024 * 1024;

  /** Requests one account may make per window; 0 turns rate limiting off. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of requests, 0 for no limit' })
  @Min(0, { message: 'must be a whole number of requests, 0 for no limit' })
  RATE_LIMIT: number = 6000;

  /** Requests with a refused token one client address may make per window; 0: no limit. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of requests, 0 for no limit' })
  @Min(0, { message: 'must be a whole number of requests, 0 for no limit' })
  BAD_TOKEN_LIMIT: number = 100;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of seconds from 1 to 86400' })
  @Min(1, { message: 'must be a whole number of seconds from 1 to 86400' })
  @Max(86400, { message: 'must be a whole number of seconds from 1 to 86400' })
  RATE_LIMIT_WINDOW: number = 60;

  /**
   * The longest a database statement, a lock wait or a wait for a pooled connection may
   * take, in milliseconds; past it the request is answered 503.
   */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds from 100 to 600000' })
  @Min(100, { message: 'must be a whole number of milliseconds from 100 to 600000' })
  @Max(600_000, { message: 'must be a whole number of milliseconds from 100 to 600000' })
  DB_STATEMENT_TIMEOUT: number = 5000;
  /** Connections each instance keeps to a PostgreSQL server: instances × this must fit its max_connections. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of connections from 1 to 1000' })
  @Min(1, { message: 'must be a whole number of connections from 1 to 1000' })
  @Max(1000, { message: 'must be a whole number of connections from 1 to 1000' })
  DB_POOL_SIZE: number = 32;

  /** Redis that every instance counts the rate limit in; unset: each process counts alone. */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Prefix of Assay's keys in Redis, so that several deployments can share one server. */
  @Matches(/^[\w:.-]{1,64}$/, { message: 'must be 1-64 letters, digits, _, :, . or -' })
  REDIS_KEY_PREFIX: string = 'assay:';

  @Transform(toBoolean)
  @IsBoolean({ message: 'must be true or false' })
  METRICS_ENABLED: boolean = true;

  /** Whether /dashboard serves the web dashboard (read-only; it calls the /v1 API). */
  @Transform(toBoolean)
  @IsBoolean({ message: 'must be true or false' })
  DASHBOARD: boolean = true;

  /** Seconds an Idempotency-Key and its answer are kept. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of seconds from 60 to 2592000 (30 days)' })
  @Min(60, { message: 'must be a whole number of seconds from 60 to 2592000 (30 days)' })
  @Max(30 * 86400, { message: 'must be a whole number of seconds from 60 to 2592000 (30 days)' })
  IDEMPOTENCY_TTL: number = 86400;

  /** Whether writes record change events (the outbox behind /v1/events and the NATS relay). */
  @Transform(toBoolean)
  @IsBoolean({ message: 'must be true or false' })
  EVENTS_ENABLED: boolean = true;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of days from 1 to 365' })
  @Min(1, { message: 'must be a whole number of days from 1 to 365' })
  @Max(365, { message: 'must be a whole number of days from 1 to 365' })
  EVENTS_RETENTION_DAYS: number = 7;

  @IsOptional()
  @Matches(/^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/, {
    message: 'must be nats://host:port (comma-separated for several servers)',
  })
  NATS_URL?: string;

  /** Longest a statistics query may run, in seconds (its statement timeout). */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value,
  )
  @IsNumber({}, { message: 'must be a number of seconds from 0.001 to 3600' })
  @Min(0.001, { message: 'must be a number of seconds from 0.001 to 3600' })
  @Max(3600, { message: 'must be a number of seconds from 0.001 to 3600' })
  DB_STATS_TIMEOUT: number = 30;

  /**
   * Pauses before each retry of a webhook delivery, comma-separated (`500ms`, `5s`, `5m`,
   * `2h`), each varied by up to 20% either way; past the last, the endpoint is disabled.
   */
  @Matches(RETRY_SCHEDULE, {
    message: `must be 1-${MAX_RETRIES} comma-separated durations such as 5s,5m,2h (each 100ms to 24h)`,
  })
  WEBHOOK_RETRY_SCHEDULE: string = DEFAULT_WEBHOOK_RETRY_SCHEDULE;

  /** How long a webhook receiver has to answer 2xx, in milliseconds. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds from 100 to 60000' })
  @Min(100, { message: 'must be a whole number of milliseconds from 100 to 60000' })
  @Max(60_000, { message: 'must be a whole number of milliseconds from 100 to 60000' })
  WEBHOOK_TIMEOUT: number = DEFAULT_WEBHOOK_TIMEOUT_MS;

  /** Seconds a rotated webhook secret keeps signing beside the new one. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of seconds from 0 to 604800 (7 days)' })
  @Min(0, { message: 'must be a whole number of seconds from 0 to 604800 (7 days)' })
  @Max(7 * 86400, { message: 'must be a whole number of seconds from 0 to 604800 (7 days)' })
  WEBHOOK_SECRET_OVERLAP: number = DEFAULT_WEBHOOK_SECRET_OVERLAP;

  /** Whether webhooks may go to loopback, private and link-local addresses (development). */
  @Transform(toBoolean)
  @IsBoolean({ message: 'must be true or false' })
  WEBHOOK_ALLOW_PRIVATE: boolean = false;

  /** Whether webhook URLs may be plain http (development). */
  @Transform(toBoolean)
  @IsBoolean({ message: 'must be true or false' })
  WEBHOOK_ALLOW_HTTP: boolean = false;

  get production(): boolean {
    return this.NODE_ENV === 'production';
  }
}

export class SettingsError extends Error {}

/** Every setting, as the environment names it. */
export const SETTING_NAMES: (keyof Settings)[] = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'DATABASE_URL',
  'DATA_DIR',
  'JWT_SECRET',
  'JWT_JWKS_URL',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_ACCOUNT_CLAIM',
  'LOG_LEVEL',
  'BODY_LIMIT',
  'RATE_LIMIT',
  'RATE_LIMIT_WINDOW',
  'DB_STATEMENT_TIMEOUT',
  'DB_POOL_SIZE',
  'REDIS_URL',
  'REDIS_KEY_PREFIX',
  'METRICS_ENABLED',
  'DASHBOARD',
  'BAD_TOKEN_LIMIT',
  'IDEMPOTENCY_TTL',
  'EVENTS_ENABLED',
  'EVENTS_RETENTION_DAYS',
  'NATS_URL',
  'DB_STATS_TIMEOUT',
  'WEBHOOK_RETRY_SCHEDULE',
  'WEBHOOK_TIMEOUT',
  'WEBHOOK_SECRET_OVERLAP',
  'WEBHOOK_ALLOW_PRIVATE',
  'WEBHOOK_ALLOW_HTTP',
];

/**
 * Reads the settings from an environment. Empty values count as unset. Throws a
 * SettingsError naming every bad setting, so that a start with a bad one stops at once.
 */
export function loadSettings(env: Record<string, string | undefined>): Settings {
  const raw: Record<string, string> = {};
  for (const key of SETTING_NAMES) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim();
  }
  const settings = plainToInstance(Settings, raw, { exposeDefaultValues: true });
  const problems = validateSync(settings).map(
    (e) => `${e.property}: ${Object.values(e.constraints ?? {})[0]} (got "${String(e.value)}")`,
  );
  if (
    settings.JWT_SECRET !== undefined &&
    Buffer.byteLength(settings.JWT_SECRET) < MIN_JWT_SECRET_BYTES
  ) {
    problems.push(`JWT_SECRET: must be at least ${MIN_JWT_SECRET_BYTES} bytes long`);
  }
  if (settings.JWT_SECRET && settings.JWT_JWKS_URL) {
    problems.push('JWT_SECRET and JWT_JWKS_URL: set only one of them');
  }
  if (settings.production && !settings.JWT_SECRET && !settings.JWT_JWKS_URL) {
    problems.push('JWT_SECRET or JWT_JWKS_URL: one is required when NODE_ENV is production');
  }
  if (settings.NATS_URL && !settings.EVENTS_ENABLED) {
    problems.push('NATS_URL: EVENTS_ENABLED is false, so there are no events to relay; unset one');
  }
  if (RETRY_SCHEDULE.test(settings.WEBHOOK_RETRY_SCHEDULE)) {
    try {
      parseRetrySchedule(settings.WEBHOOK_RETRY_SCHEDULE);
    } catch (err) {
      problems.push(`WEBHOOK_RETRY_SCHEDULE: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) {
    throw new SettingsError(`Invalid settings:\n  ${problems.join('\n  ')}`);
  }
  return settings;
}
