import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { baseEnv, ensureBuilt, startServer, type ServerProcess } from './support/server.js';

// The README's walk-through, run as a reader runs it: its shell blocks in one bash session
// against the built server, each block's last JSON answer compared with the JSON shown after
// it; then the evaluator example, which goes on from the walk-through's run and label.

const BLOCK_END = '@@ end of block @@';
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface Step {
  sh: string;
  shown?: unknown;
}

const README = readFileSync('README.md', 'utf8');

function walkThrough(): Step[] {
  const section = README.slice(README.indexOf('\n## Walk-through'));
  const steps: Step[] = [];
  for (const [, lang, body] of section.matchAll(/^```(sh|json)\n([\s\S]*?)^```$/gm)) {
    if (lang === 'sh') steps.push({ sh: body });
    else steps[steps.length - 1].shown = JSON.parse(body);
  }
  return steps;
}

/** The evaluator example, which goes on from the walk-through's run and label. */
function evaluatorExample(): string {
  const [, body] = /post a batch:\n\n```sh\n([\s\S]*?)^```$/m.exec(README) ?? [];
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

/** The README's example as a matcher: "…" stands for any string, a time for any time. */
function asShown(shown: unknown): unknown {
  if (typeof shown === 'string') {
    if (shown.includes('…')) return expect.any(String);
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

  it('answers what it shows, step by step', () => {
    const steps = walkThrough();
    expect(steps.length).toBeGreaterThanOrEqual(6);
    const script = [...steps.map((s) => s.sh), evaluatorExample()]
      .map((sh) => sh.replaceAll('localhost:3000', server.url))
      .join(`printf '\\n${BLOCK_END}\\n'\n`);
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
      env: { ...baseEnv, DATA_DIR: dataDir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const outputs = run.stdout.split(`\n${BLOCK_END}\n`);
    expect(outputs).toHaveLength(steps.length + 1);
    const batch = jsonValues(outputs.pop()!).at(-1) as Record<string, unknown>[];
    steps.forEach((step, i) => {
      if (step.shown === undefined) return;
      expect({ step: i + 1, answer: jsonValues(outputs[i]).at(-1) }).toEqual({
        step: i + 1,
        answer: asShown(step.shown),
      });
    });
    // The last step says "204, and it is gone".
    expect(outputs.at(-1)!.trim()).toBe('204');
    // The evaluator's batch: both values, recorded as the evaluator's, not a person's.
    expect(batch.map((e) => [e.value, e.created_by])).toEqual([
      [4, null],
      [3.5, null],
    ]);
    expect(batch[0].created_by_evaluator_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(batch[1].created_by_evaluator_id).toBe(batch[0].created_by_evaluator_id);
  });
});
