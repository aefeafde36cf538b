import { spawnSync } from 'node:child_process';
import { describe } from '@jest/globals';

import { SHARED_REDIS_URL } from './redis.js';

const redis = new URL(SHARED_REDIS_URL);
/** The machine's services that some specs use, where `npm test` looks for them. */
const SERVICES = {
  NATS: { host: '127.0.0.1', port: 4222, start: 'nats-server -js' },
  Redis: { host: redis.hostname, port: Number(redis.port || 6379), start: 'redis-server' },
} as const;

type Service = keyof typeof SERVICES;

/** Whether something accepts connections there; describe blocks are made synchronously. */
function reachable({ host, port }: { host: string; port: number }): boolean {
  const probe = `require('node:net').connect(${port}, '${host}')
    .on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
  return spawnSync(process.execPath, ['-e', probe], { timeout: 10_000 }).status === 0;
}

const up: Partial<Record<Service, boolean>> = {};

/**
 * `describe` for specs that need one of the machine's services, or `describe.skip` with a
 * warning that names it when it is not running, so that plain `npm test` passes on a machine
 * without it. TEST_SERVICES=required (CI) makes a missing service a failure instead.
 */
export function describeWith(service: Service): typeof describe.skip {
  const where = SERVICES[service];
  if ((up[service] ??= reachable(where))) return describe;
  const missing = `${service} is not running at ${where.host}:${where.port} (start it with \`${where.start}\`)`;
  if (process.env.TEST_SERVICES === 'required')
    throw new Error(`${missing}; TEST_SERVICES=required.`);
  console.warn(`${missing}: its specs are skipped.`);
  return describe.skip;
}
