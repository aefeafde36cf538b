import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(run.stderr).toContain(
      'apt-get update && apt-get install -y --no-install-recommends chromium',
    );
    expect(run.stderr).toContain('/nonexistent/chromium');
  });

  // Stand-ins for apt-get and apt-cache that log their calls and act like Debian's on a machine
  // whose package lists are empty, so the order of what is said and done can be read back.
  (process.getuid?.() === 0 ? it : it.skip)(
    'as root, says what it will install before installing chromium alone',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'assay-apt-'));
      const chromium = join(dir, 'chromium');
      const script = (name: string, body: string) => {
        writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
        chmodSync(join(dir, name), 0o755);
      };
      script(
        'apt-cache',
        `[ -e ${dir}/updated ] && echo '  Candidate: 156.0' || echo '  Candidate: (none)'`,
      );
      script(
        'apt-get',
        [
          `echo "apt-get $*" >> ${dir}/log`,
          `case "$*" in`,
          `  update*) touch ${dir}/updated ;;`,
          `  -s*) printf 'Inst chromium (156.0 Debian)\\nInst libnss3 [3.87] (3.87.1 Debian)\\n' ;;`,
          `  *) echo installing >&2; printf '#!/bin/sh\\n' > ${chromium}; chmod +x ${chromium} ;;`,
          `esac`,
        ].join('\n'),
      );
      const run = check({ CHROMIUM_PATH: chromium, PATH: `${dir}:/usr/bin:/bin` });
      expect(run.status).toBe(0);
      expect(existsSync(chromium)).toBe(true);
      expect(readFileSync(join(dir, 'log'), 'utf8').trim().split('\n')).toEqual([
        'apt-get update -qq',
        'apt-get -s install -y -qq --no-install-recommends chromium',
        'apt-get install -y -qq --no-install-recommends chromium',
      ]);
      const said = run.stderr.indexOf("Installing Debian's chromium and the 2 packages it needs");
      expect(said).toBeGreaterThan(-1);
      expect(run.stderr).toContain('(chromium, libnss3)');
      expect(said).toBeLessThan(run.stderr.indexOf('installing'));
    },
  );
});
