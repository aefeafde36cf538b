import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { baseEnv, ensureBuilt, startServer, type ServerProcess } from './support/server.js';

// The README's walk-through, run as a reader runs it: its shell blocks in one bash session
// against the built server, each block's last JSON answer compared with the JSON shown after
// it; then the evaluator example of docs/writes.md, which goes on from the walk-through's run
// and label. All of it runs twice on the same server, as a reader may run it again.

const BLOCK_END = '@@ end of block @@';
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** How the docs shorten an id: its first four hex digits and an ellipsis. */
const SHORT_ID = /^[0-9a-f]{4}…$/;

interface Step {
  sh: string;
  shown?: unknown;
}

const README = readFileSync('README.md', 'utf8');
const WRITES = readFileSync('docs/writes.md', 'utf8');

function walkThrough(): Step[] {
  const start = README.indexOf('\n## Walk-through');
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end === -1 ? undefined : end);
  const steps: Step[] = [];
  for (const [, lang, body] of section.matchAll(/^```(sh|json)\n([\s\S]*?)^```$/gm)) {
    if (lang === 'sh') steps.push({ sh: body });
    else steps[steps.length - 1].shown = JSON.parse(body);
  }
  return steps;
}

/** The evaluator example of docs/writes.md, which goes on from the walk-through's run and label. */
function evaluatorExample(): string {
  const [, body] = /post a batch:\n\n```sh\n([\s\S]*?)^```$/m.exec(WRITES) ?? [];
  return body;
}

/** Splits text holding JSON documents back to back (curl prints no newline) into values. */
function jsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth++ === 0) start = i;
    } else if ((c === '}' || c === ']') && --depth === 0) {
      values.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return values;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The README's example as a matcher: a shortened id ("7c1e…") stands for any UUID, "…" in
 * any other string for any text there, a time for any time.
 */
function asShown(shown: unknown): unknown {
  if (typeof shown === 'string') {
    if (SHORT_ID.test(shown)) return expect.stringMatching(UUID);
    if (shown.includes('…'))
      return expect.stringMatching(
        new RegExp(`^${shown.split('…').map(escapeRegExp).join('.*')}$`),
      );
    if (ISO_TIME.test(shown)) return expect.stringMatching(ISO_TIME);
    return shown;
  }
  if (Array.isArray(shown)) return shown.map(asShown);
  if (shown && typeof shown === 'object')
    return Object.fromEntries(Object.entries(shown).map(([k, v]) => [k, asShown(v)]));
  return shown;
}

describe('the README walk-through', () => {
  let server: ServerProcess;
  let dataDir: string;
  beforeAll(async () => {
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'assay-readme-'));
    server = await startServer({ DATA_DIR: dataDir });
  });
  afterAll(() => server?.stop());

  /** The walk-through and the evaluator example, in one bash session of their own. */
  function runOnce(steps: Step[]) {
    const script = [...steps.map((s) => s.sh), evaluatorExample()]
      .map((sh) => sh.replaceAll('localhost:3000', server.url))
      .join(`printf '\\n${BLOCK_END}\\n'\n`);
    return spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
      env: { ...baseEnv, DATA_DIR: dataDir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  }

  it('answers what it shows, step by step, and again when run a second time', () => {
    const steps = walkThrough();
    expect(steps.length).toBeGreaterThanOrEqual(6);
    const labels: unknown[] = [];
    for (const time of [1, 2]) {
      const run = runOnce(steps);
      expect({ time, stderr: run.stderr, status: run.status }).toEqual({
        time,
        stderr: '',
        status: 0,
      });
      const outputs = run.stdout.split(`\n${BLOCK_END}\n`);
      expect(outputs).toHaveLength(steps.length + 1);
      const batch = jsonValues(outputs.pop()!).at(-1) as Record<string, unknown>[];
      steps.forEach((step, i) => {
        if (step.shown === undefined) return;
        expect({ time, step: i + 1, answer: jsonValues(outputs[i]).at(-1) }).toEqual({
          time,
          step: i + 1,
          answer: asShown(step.shown),
        });
      });
      labels.push((jsonValues(outputs[0]).at(-1) as { name: string }).name);
      // The last step says "204, and it is gone".
      expect(outputs.at(-1)!.trim()).toBe('204');
      // The evaluator's batch: both values, recorded as the evaluator's, not a person's.
      expect(batch.map((e) => [e.value, e.created_by])).toEqual([
        [4, null],
        [3.5, null],
      ]);
      expect(batch[0].created_by_evaluator_id).toMatch(UUID);
      expect(batch[1].created_by_evaluator_id).toBe(batch[0].created_by_evaluator_id);
    }
    // Each try made a label of its own.
    expect(new Set(labels).size).toBe(2);
  });
});
