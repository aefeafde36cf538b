import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DATABASES, startApp, type TestApp, token } from './support/app.js';
import { ensureBuilt } from './support/server.js';

const TSC = resolve('node_modules/.bin/tsc');

/** A consumer's own code: typed calls, and a path the API lacks, which must not compile. */
const consumer = (baseUrl: string, bearer: string) => `
import { createAssayClient, type components } from 'assay/client';

const client = createAssayClient({ baseUrl: ${JSON.stringify(baseUrl)}, token: ${JSON.stringify(bearer)} });
const created = await client.POST('/v1/runs', { body: { name: 'from the package' } });
if (created.error) throw new Error(created.error.error);
const { data, error } = await client.GET('/v1/runs');
if (error) throw new Error(error.error);
const runs: components['schemas']['Run'][] = data;
console.log(JSON.stringify(runs.map((r) => r.name)));
// @ts-expect-error a path the API does not have
void client.GET('/v1/nowhere');
`;

// The package as a user gets it: npm pack, installed into an empty project.
describe('the packed package', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'assay-consumer-'));
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { stdio: 'ignore' });
    writeFileSync(join(dir, 'package.json'), '{"name":"consumer","private":true,"type":"module"}');
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline', './assay-0.1.0.tgz'],
      { cwd: dir, stdio: 'ignore' },
    );
    t = await startApp(DATABASES[0]);
    await t.app.listen(0, '127.0.0.1');
  }, 300_000);
  afterAll(() => t?.close());

  it('ships the built dashboard and none of its sources', () => {
    const shipped = join(dir, 'node_modules/assay');
    for (const file of ['index.html', 'app.js', 'app.js.gz', 'styles.css'])
      expect(existsSync(join(shipped, 'dist/dashboard', file))).toBe(true);
    expect(existsSync(join(shipped, 'dashboard'))).toBe(false);
  });

  it("type-checks and runs a consumer's `import { createAssayClient } from 'assay/client'`", async () => {
    writeFileSync(join(dir, 'main.ts'), consumer(await t.app.getUrl(), token()));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2023',
          strict: true,
          skipLibCheck: false,
          types: [],
        },
        files: ['main.ts'],
      }),
    );
    // Compiles with the client's own declarations checked too (skipLibCheck off).
    execFileSync(TSC, ['-p', '.'], { cwd: dir, encoding: 'utf8' });
    // Not execFileSync: the server answering it runs in this process.
    const run = await promisify(execFile)(process.execPath, ['main.js'], {
      cwd: dir,
      timeout: 30_000,
    });
    expect(JSON.parse(run.stdout)).toEqual(['from the package']);
  });
});
