import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

// `npm test` runs scripts/ensure-chromium.mjs first (the `pretest` script).
const check = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['scripts/ensure-chromium.mjs'], {
    env: { ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });

describe('the set-up before npm test', () => {
  it('passes at once when Chromium is there', () => {
    const run = check({ CHROMIUM_PATH: process.execPath, PATH: process.env.PATH ?? '' });
    expect([run.status, run.stderr]).toEqual([0, '']);
  });

  it('stops at once naming the one command to run when Chromium is missing and cannot be installed', () => {
    // No apt-get on this PATH: the user cannot install it from here.
    const run = check({ CHROMIUM_PATH: '/nonexistent/chromium', PATH: '/nonexistent' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('apt-get update && apt-get install -y chromium');
    expect(run.stderr).toContain('/nonexistent/chromium');
  });
});
