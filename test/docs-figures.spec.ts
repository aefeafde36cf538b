import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { maxHeaderSize } from 'node:http';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { getMetadataStorage } from 'class-validator';
import fastify from 'fastify';
import * as bench from '../bench/defaults.js';
import {
  DEFAULT_EVENTS_RETENTION_DAYS,
  DEFAULT_IDEMPOTENCY_TTL,
  DEFAULT_STATS_TIMEOUT,
} from '../src/assay-options.js';
import { JWKS_CACHE_MS } from '../src/auth/jwt-options.js';
import { DEFAULT_TTL } from '../src/auth/token-command.js';
import { JWT_STRATEGY, MAX_ACCOUNT_ID } from '../src/auth/jwt.strategy.js';
import { TRUST_MS } from '../src/auth/verified-tokens.js';
import { MAX_JSON_DEPTH } from '../src/common/json-body.js';
import { POOLED_IDS } from '../src/common/ordered-uuids.js';
import { MAX_PAGE } from '../src/common/paging.js';
import {
  loadSettings,
  MIN_JWT_SECRET_BYTES,
  SETTING_NAMES,
  Settings,
} from '../src/config/settings.js';
import { SUMMARY_MS } from '../src/database/database-state-log.js';
import {
  IN_MEMORY,
  LOCK_SHARE,
  POOL_IDLE_MS,
  POOL_SIZE,
} from '../src/database/data-source-options.js';
import { NAMED_STATEMENTS } from '../src/database/pg-driver.js';
import { EMBEDDED_SHARED_BUFFERS_MB } from '../src/database/pglite-driver.js';
import { MAX_LABEL_NAME } from '../src/evaluation-labels/dto/create-evaluation-label.dto.js';
import { MAX_CATEGORIES, MIN_CATEGORIES } from '../src/evaluation-labels/label-rules.js';
import { MAX_BATCH } from '../src/evaluations/dto/evaluation-batch.dto.js';
import { KEPT_EVALUATIONS } from '../src/evaluations/evaluations.service.js';
import { MAX_PATH_MS, MAX_PATH_WORK } from '../src/evaluations/field-path.js';
import { DEFAULT_EVENTS_PAGE, MAX_EVENTS_PAGE } from '../src/events/events.controller.js';
import { KEEP_ALIVE_MS } from '../src/events/events.service.js';
import { STREAM } from '../src/events/nats-publisher.js';
import {
  PURGE_EVERY_MS as EVENTS_PURGE_MS,
  RELAY_BATCH,
  TICK_MS,
} from '../src/events/outbox-pump.js';
import { DEFAULT_PREFIX, MAX_REQUEST_ID } from '../src/http/configure-http.js';
import { DRAIN_LIMIT } from '../src/http/drain.js';
import { SHUTDOWN_GRACE_MS, SHUTDOWN_LINGER_MS } from '../src/http/shutdown.js';
import { DURATION_BUCKETS } from '../src/metrics/http-metrics.js';
import { REDIS_TIMEOUT_MS, RETRY_MS } from '../src/rate-limit/limiters.js';
import { GROUP_KEYS, INTERVALS } from '../src/stats/dto/stats-query.dto.js';
import { DEFAULT_INTERVAL } from '../src/stats/dto/overview.dto.js';
import { OVERVIEW_EVALUATIONS, OVERVIEW_LABELS } from '../bench/overview-bench.js';
import { PACED_CYCLES, QUEUED_ITEMS, REVIEWERS } from '../bench/review-bench.js';
import { EXPORT_BUFFER, EXPORT_PAGE } from '../src/stats/evaluation-list.service.js';
import { LIMITS_OF_AGREEMENT_Z } from '../src/stats/agreement.js';
import {
  DEFAULT_ALPHA,
  DEFAULT_REGRESSIONS_LIMIT,
  MAX_PAIR_KEY_LENGTH,
  MAX_REGRESSIONS_LIMIT,
} from '../src/stats/filters.js';
import { MAX_IDEMPOTENCY_KEY } from '../src/writes/idempotency.js';
import { MAX_KEPT_CHARS } from '../src/writes/row-cache.js';
import { KEPT_ITEMS, KEPT_QUEUES } from '../src/review-queues/review-queues.service.js';
import {
  MAX_ATTEMPTS,
  PURGE_EVERY_MS as IDEMPOTENCY_PURGE_MS,
} from '../src/writes/write-pipeline.js';
import {
  MAX_WEBHOOK_URL,
  MAX_WEBHOOKS_PER_ACCOUNT,
} from '../src/webhooks/dto/create-webhook.dto.js';
import {
  DEFAULT_WEBHOOK_RETRY_SCHEDULE,
  DEFAULT_WEBHOOK_SECRET_OVERLAP,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  JITTER,
  parseRetrySchedule,
} from '../src/webhooks/retry-schedule.js';
import { FLUSH_MS, LEASE_MARGIN_S } from '../src/webhooks/webhook-dispatcher.js';
import { MAX_RESPONSE_BYTES } from '../src/webhooks/webhook-sender.js';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_DELIVER,
} from '../src/events/jetstream-transport.js';

/** A pause as docs write it: 5 s, 5 min, 2 h. */
const pause = (ms: number) =>
  ms % 3_600_000 === 0
    ? `${ms / 3_600_000} h`
    : ms % 60_000 === 0
      ? `${ms / 60_000} min`
      : `${ms / 1000} s`;
const retryPauses = parseRetrySchedule(DEFAULT_WEBHOOK_RETRY_SCHEDULE).map(pause);

// Every figure the README and docs/ quote from the code, checked against the code: each row
// is a page and a phrase it must contain, the phrase built from the code's own value. A doc
// that says another number lacks the phrase, and the row fails. A new figure is a new row.

/** The README and every page of docs/. */
const PAGES = [
  'README.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  engines: { node: string };
  config: { heapMb: string; semiSpaceMb: string };
  peerDependencies: Record<string, string>;
};
const defaults = loadSettings({});

/** 1000 as the docs write it in prose: 1,000. */
const n = (value: number) => value.toLocaleString('en-US');
/** Milliseconds as seconds: 60 s. */
const s = (ms: number) => `${ms / 1000} s`;
const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const codeList = (items: readonly string[]) => items.map((i) => `\`${i}\``).join(', ');

const FIGURES: [page: string, phrase: string][] = [
  // README.md
  ['README.md', `<http://localhost:${defaults.PORT}> (\`PORT\`)`],
  ['README.md', `an embedded PostgreSQL under \`${defaults.DATA_DIR}\``],
  ['README.md', `It needs Node.js ${pkg.engines.node.replace('>=', '')} or newer`],
  ['README.md', `${bench.CONNECTIONS} connections (${bench.BATCH_CONNECTIONS} for batches)`],
  ['README.md', `median of ${bench.ROUNDS} rounds`],
  ['README.md', `${REVIEWERS} people claiming and reviewing`],
  ['README.md', `claim p99, ${n(QUEUED_ITEMS)} items queued, ${PACED_CYCLES} cycles a second`],
  ['README.md', `| POST batch (${bench.BATCH} items) |`],
  // docs/api.md
  ['docs/api.md', `\`limit\` (1–${MAX_PAGE}, default ${MAX_PAGE})`],
  ['docs/api.md', `(\`JWT_ACCOUNT_CLAIM\`, default \`${defaults.JWT_ACCOUNT_CLAIM}\`)`],
  ['docs/api.md', `remembered for at most ${s(TRUST_MS)}`],
  ['docs/api.md', `cached for ${JWKS_CACHE_MS / 60_000} minutes`],
  ['docs/api.md', `A token's account is at most ${MAX_ACCOUNT_ID} characters`],
  ['docs/api.md', `changing throughout ${WORDS[MAX_ATTEMPTS]} tries`],
  ['docs/writes.md', `(up to ${MAX_KEPT_CHARS / 1024 / 1024} MB of each)`],
  ['docs/writes.md', `(the last ${n(KEPT_EVALUATIONS)} it updated or read to update)`],
  ['docs/review-queues.md', `(the last ${n(KEPT_ITEMS)} items claimed`],
  ['docs/review-queues.md', `(the last ${n(KEPT_QUEUES)} queues)`],
  ['docs/api.md', `a label name outside 1–${MAX_LABEL_NAME} characters`],
  ['docs/api.md', `headers over ${maxHeaderSize / 1024} KB: 431`],
  ['docs/api.md', `(default \`${DEFAULT_TTL}\`)`],
  ['docs/host-app.md', `[--ttl ${DEFAULT_TTL}]`],
  ['docs/api.md', `the rest of the body, up to ${DRAIN_LIMIT / 1024 / 1024} MiB`],
  ['docs/operations.md', `its shared buffers are set to ${EMBEDDED_SHARED_BUFFERS_MB} MB`],
  ['docs/api.md', `path parameter over ${fastify().initialConfig.maxParamLength} characters`],
  ['docs/api.md', `up to ${MAX_REQUEST_ID}) when it sent one`],
  ['docs/api.md', `<http://localhost:${defaults.PORT}/docs>`],
  // docs/writes.md
  ['docs/writes.md', `(${MIN_CATEGORIES}–${MAX_CATEGORIES} distinct non-empty strings`],
  ['docs/writes.md', `Names are 1–${MAX_LABEL_NAME} characters`],
  ['docs/writes.md', `more than ${n(MAX_PATH_WORK)} values or ${MAX_PATH_MS} ms`],
  ['docs/writes.md', `nested deeper than ${MAX_JSON_DEPTH} levels`],
  ['docs/writes.md', `a token's account of at most ${MAX_ACCOUNT_ID}`],
  ['docs/writes.md', `After ${MAX_ATTEMPTS} such tries`],
  ['docs/writes.md', `with 1 to ${n(MAX_BATCH)} items`],
  ['docs/writes.md', `<1–${MAX_IDEMPOTENCY_KEY} visible ASCII characters>`],
  [
    'docs/writes.md',
    `\`IDEMPOTENCY_TTL\` seconds (default ${defaults.IDEMPOTENCY_TTL}, ${defaults.IDEMPOTENCY_TTL / 3600} h)`,
  ],
  ['docs/writes.md', `expired ones are purged every ${s(IDEMPOTENCY_PURGE_MS)}`],
  // docs/events.md
  ['docs/events.md', `A comment line every ${s(KEEP_ALIVE_MS)}`],
  ['docs/events.md', `\`limit\` 1–${MAX_EVENTS_PAGE} (default ${DEFAULT_EVENTS_PAGE})`],
  ['docs/events.md', `(default ${defaults.EVENTS_RETENTION_DAYS}; each instance deletes older`],
  ['docs/events.md', `as it starts and every ${EVENTS_PURGE_MS / 60_000} minutes`],
  ['docs/events.md', `stream \`${STREAM}\` (made when missing)`],
  ['docs/events.md', `come every ${TICK_MS} ms`],
  ['docs/events.md', `full batches of ${RELAY_BATCH} events`],
  ['docs/events.md', `\`2xx\` within ${DEFAULT_WEBHOOK_TIMEOUT_MS / 1000} s (\`WEBHOOK_TIMEOUT\`)`],
  ['docs/events.md', `At most ${MAX_RESPONSE_BYTES / 1024} KB of an answer is read`],
  [
    'docs/events.md',
    `tried again after ${retryPauses.slice(0, -1).join(', ')} and ${retryPauses.at(-1)} (\`WEBHOOK_RETRY_SCHEDULE\`)`,
  ],
  ['docs/events.md', `varied by up to ${JITTER * 100}% either way`],
  ['docs/events.md', `For ${DEFAULT_WEBHOOK_SECRET_OVERLAP / 3600} h (\`WEBHOOK_SECRET_OVERLAP\`)`],
  ['docs/events.md', `timeout plus ${LEASE_MARGIN_S} s`],
  ['docs/events.md', `results are recorded every ${FLUSH_MS} ms`],
  ['docs/events.md', `at most ${MAX_WEBHOOK_URL} characters`],
  ['docs/events.md', `At most ${MAX_WEBHOOKS_PER_ACCOUNT} webhooks per account`],
  ['docs/host-app.md', `\`maxDeliver\` | \`${DEFAULT_MAX_DELIVER}\``],
  ['docs/host-app.md', `\`backoffMs\` | \`[${DEFAULT_BACKOFF_MS.join(', ')}]\``],
  ['docs/host-app.md', `\`ackWaitMs\` | \`${DEFAULT_ACK_WAIT_MS}\``],
  // docs/statistics.md
  ['docs/statistics.md', `\`group_by\` (a comma list of ${codeList(GROUP_KEYS)})`],
  [
    'docs/statistics.md',
    `\`interval\` (${codeList(INTERVALS.slice(0, 3))} starting Monday, \`${INTERVALS[3]}\`; UTC`,
  ],
  ['docs/statistics.md', `\`alpha\` (default ${DEFAULT_ALPHA},`],
  ['docs/statistics.md', `and \`interval\` (default \`${DEFAULT_INTERVAL}\`); anything else`],
  ['docs/statistics.md', `with \`interval\` (default \`${DEFAULT_INTERVAL}\`). It answers`],
  ['docs/statistics.md', `\`alpha\` ${DEFAULT_ALPHA}): \`/compare\` with`],
  [
    'docs/performance.md',
    `${OVERVIEW_LABELS} labels (five of each value type) and ${n(OVERVIEW_EVALUATIONS)}`,
  ],
  ['docs/statistics.md', `key of 1–${MAX_PAIR_KEY_LENGTH} characters`],
  ['docs/statistics.md', `(default ${DEFAULT_REGRESSIONS_LIMIT}, 1–${MAX_REGRESSIONS_LIMIT})`],
  ['docs/statistics.md', `mean difference ± ${LIMITS_OF_AGREEMENT_Z} sample standard deviations`],
  ['docs/statistics.md', `keyset pages of ${n(EXPORT_PAGE)} rows`],
  ['docs/statistics.md', `(a buffer of ${EXPORT_BUFFER / 1024} KiB)`],
  ['docs/statistics.md', `\`DB_STATS_TIMEOUT\` (default ${defaults.DB_STATS_TIMEOUT} s)`],
  // docs/host-app.md
  ['docs/host-app.md', `\`idempotencyTtlSeconds\` | \`${DEFAULT_IDEMPOTENCY_TTL}\``],
  ['docs/host-app.md', `(${DEFAULT_IDEMPOTENCY_TTL / 3600} h)`],
  ['docs/host-app.md', `\`eventsRetentionDays\` | \`${DEFAULT_EVENTS_RETENTION_DAYS}\``],
  ['docs/host-app.md', `\`statsTimeoutSeconds\` | \`${DEFAULT_STATS_TIMEOUT}\``],
  ['docs/host-app.md', `Its one option, \`prefix\` (default \`${DEFAULT_PREFIX}\`)`],
  ['docs/host-app.md', `The passport strategy is named \`${JWT_STRATEGY}\``],
  [
    'docs/host-app.md',
    `Assay's ${Object.keys(pkg.peerDependencies).length} peer dependencies are yours`,
  ],
  // docs/operations.md
  ['docs/operations.md', `It needs Node.js ${pkg.engines.node.replace('>=', '')} or newer`],
  ['docs/operations.md', `caps the server's heap at ${pkg.config.heapMb} MB`],
  ['docs/operations.md', `semi-spaces to ${pkg.config.semiSpaceMb} MB`],
  [
    'docs/operations.md',
    `\`${IN_MEMORY}\`: in memory, with \`JWT_SECRET\` or \`JWT_JWKS_URL\` set`,
  ],
  ['docs/operations.md', `HS256 secret, at least ${MIN_JWT_SECRET_BYTES} bytes`],
  ['docs/operations.md', `(letters, digits, \`.\`, \`_\`, \`:\`, \`-\`, up to ${MAX_REQUEST_ID})`],
  ['docs/operations.md', `(${DURATION_BUCKETS[0] * 1000} ms to ${DURATION_BUCKETS.at(-1)} s)`],
  ['docs/operations.md', `\`lock_timeout\` to ${LOCK_SHARE} of it`],
  ['docs/operations.md', `(\`DB_POOL_SIZE\`, default ${defaults.DB_POOL_SIZE})`],
  ['docs/operations.md', `connections (default ${POOL_SIZE}): instances`],
  ['docs/operations.md', `Pooled connections idle for ${s(POOL_IDLE_MS)} are closed`],
  ['docs/operations.md', `at most one line per ${s(SUMMARY_MS)}`],
  ['docs/operations.md', `(the first ${NAMED_STATEMENTS} distinct texts`],
  ['docs/operations.md', `For ${SHUTDOWN_LINGER_MS} ms it keeps serving`],
  ['docs/operations.md', `still running after ${s(SHUTDOWN_GRACE_MS)}`],
  ['docs/operations.md', `\`RATE_LIMIT\` requests (default ${defaults.RATE_LIMIT})`],
  ['docs/operations.md', `seconds (default ${defaults.RATE_LIMIT_WINDOW})`],
  ['docs/operations.md', `\`BAD_TOKEN_LIMIT\` (default ${defaults.BAD_TOKEN_LIMIT}) per window`],
  ['docs/operations.md', `slower than ${REDIS_TIMEOUT_MS} ms to answer`],
  ['docs/operations.md', `more than ${REDIS_TIMEOUT_MS} ms (while it is failing`],
  ['docs/operations.md', `tried again once every ${RETRY_MS} ms`],
  ['docs/operations.md', `under \`DATA_DIR\` (\`${defaults.DATA_DIR}\`)`],
  // docs/performance.md
  ['docs/performance.md', `(${bench.CONNECTIONS} connections, ${bench.DURATION_SECONDS} s each)`],
  [
    'docs/performance.md',
    `POST batches of ${bench.BATCH} (${bench.BATCH_CONNECTIONS} connections)`,
  ],
  ['docs/performance.md', `(${bench.WARM_UP} requests per connection)`],
  ['docs/performance.md', `\`--rounds\` rounds (default ${bench.ROUNDS})`],
  ['docs/performance.md', `has ${REVIEWERS} people claim an item`],
  ['docs/performance.md', `puts ${n(QUEUED_ITEMS)} items into a new queue`],
  ['docs/performance.md', `paced at ${PACED_CYCLES} cycles a second (each`],
  ['docs/performance.md', `person every ${(REVIEWERS * 1000) / PACED_CYCLES} ms`],
  ['docs/performance.md', `(${POOL_SIZE} connections, idle ones kept ${s(POOL_IDLE_MS)})`],
  ['docs/performance.md', `refilled every ${POOLED_IDS} ids`],
  ['docs/performance.md', `keeps idle connections for ${s(POOL_IDLE_MS)}`],
  ['docs/performance.md', `for up to ${s(TRUST_MS)} (never past its \`exp\`)`],
  ['docs/performance.md', `caps the heap at ${pkg.config.heapMb} MB`],
  ['docs/performance.md', `semi-spaces to ${pkg.config.semiSpaceMb} MB`],
  ['docs/performance.md', `with relay rounds every ${TICK_MS} ms`],
  ['docs/performance.md', `reads pages of ${n(EXPORT_PAGE)} rows`],
];

/** Whitespace as one space, so that a phrase may span a line break or a padded table cell. */
const flat = (text: string) => text.replace(/\s+/g, ' ');
const text = new Map(PAGES.map((page) => [page, readFileSync(page, 'utf8')]));

/**
 * The phrase when the page says it; else what the page says where the phrase's words before
 * its first figure are, so that a failure shows the doc's figure beside the code's.
 */
function whatThePageSays(page: string, phrase: string): string {
  const body = flat(text.get(page) ?? '');
  const wanted = flat(phrase);
  if (body.includes(wanted)) return wanted;
  const lead = wanted.slice(0, Math.max(0, wanted.search(/\d/)));
  const at = lead.length > 3 ? body.indexOf(lead) : -1;
  return at === -1 ? `(${page} does not say it)` : body.slice(at, at + wanted.length);
}

describe('the figures the docs quote from the code', () => {
  it.each(FIGURES)('%s says: %s', (page, phrase) => {
    expect(PAGES).toContain(page);
    expect(whatThePageSays(page, phrase)).toBe(flat(phrase));
  });

  /** The rows of the Markdown table under a heading of a page: its cells, header left out. */
  function tableRows(page: string, heading: string): string[][] {
    const body = text.get(page)!;
    const section = body.slice(body.indexOf(`\n## ${heading}\n`) + 1);
    const lines = section.split('\n').slice(1);
    const start = lines.findIndex((line) => line.startsWith('|'));
    const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
    return lines.slice(start + 2, end).map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }

  /** The Min and Max that class-validator checks on each setting. */
  function bounds(): Map<string, { min?: number; max?: number }> {
    const found = new Map<string, { min?: number; max?: number }>();
    for (const m of getMetadataStorage().getTargetValidationMetadatas(Settings, '', true, false)) {
      if (m.name !== 'min' && m.name !== 'max') continue;
      const entry = found.get(m.propertyName) ?? {};
      entry[m.name] = m.constraints[0] as number;
      found.set(m.propertyName, entry);
    }
    return found;
  }

  it('operations.md lists every setting, with its default and its range as the code has them', () => {
    const rows = tableRows('docs/operations.md', 'Settings');
    const unquote = (cell: string) => cell.replace(/^`(.*)`$/, '$1');
    expect(rows.map(([name]) => unquote(name)).sort()).toEqual([...SETTING_NAMES].sort());
    const ranges = bounds();
    for (const [name, dflt, meaning] of rows) {
      const key = unquote(name) as keyof Settings;
      const value = defaults[key];
      expect({ key, default: unquote(dflt) }).toEqual({
        key,
        default: value === undefined ? 'unset' : String(value),
      });
      const range = ranges.get(key);
      const quoted = /\((\d[\d.]*)–(\d[\d.]*)[;)]/.exec(meaning);
      const both = range?.min !== undefined && range.max !== undefined;
      expect({ key, range: quoted && [Number(quoted[1]), Number(quoted[2])] }).toEqual({
        key,
        range: both ? [range.min, range.max] : null,
      });
    }
  });

  it('host-app.md lists every option of AssayModuleOptions', () => {
    const source = readFileSync('src/assay-options.ts', 'utf8');
    const [, body] = /export interface AssayModuleOptions \{([\s\S]*?)\n\}/.exec(source) ?? [];
    const options = [...body.matchAll(/^ {2}(\w+)\??:/gm)].map(([, name]) => name);
    expect(options).toContain('auth');
    const rows = tableRows('docs/host-app.md', 'Options');
    expect(rows.map(([name]) => name.replace(/`/g, ''))).toEqual(options);
  });

  it('host-app.md names everything the package entry exports', () => {
    const entry = readFileSync('src/index.ts', 'utf8');
    const names = [...entry.matchAll(/^export (?:type )?\{([^}]*)\}/gm)].flatMap(([, list]) =>
      list
        .split(',')
        .map((item) => item.trim().split(/\s+/).at(-1)!)
        .filter(Boolean),
    );
    expect(names).toContain('AssayModule');
    const page = text.get('docs/host-app.md')!;
    expect(names.filter((name) => !page.includes(`\`${name}\``))).toEqual([]);
  });

  it('host-app.md lists every peer dependency, with its version, and installs them all', () => {
    const rows = tableRows('docs/host-app.md', 'Installing');
    expect(
      Object.fromEntries(
        rows.map(([name, version]) => [name, version].map((c) => c.replace(/`/g, ''))),
      ),
    ).toEqual(pkg.peerDependencies);
    const [, install] =
      /```sh\n(npm install [\s\S]*?)```/.exec(text.get('docs/host-app.md')!) ?? [];
    expect(
      install
        .split(/[\s\\]+/)
        .slice(2)
        .filter(Boolean)
        .sort(),
    ).toEqual(Object.keys(pkg.peerDependencies).sort());
  });
});

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading
    .replace(/`/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(page: string): Set<string> {
  const body = readFileSync(page, 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of body.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = anchor(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

describe('the relative links of the README and docs/', () => {
  const links = PAGES.flatMap((page) => {
    const body = text.get(page)!.replace(/^```[\s\S]*?^```$/gm, '');
    return [...body.matchAll(/\]\(([^)\s]+)\)/g)]
      .map(([, target]) => target)
      .filter((target) => !/^[a-z]+:/i.test(target))
      .map((target) => [page, target] as const);
  });

  it('are there to check', () => {
    expect(links.length).toBeGreaterThan(20);
  });

  it.each(links)('%s → %s leads to a file and heading that exist', (page, target) => {
    const [path, hash] = target.split('#');
    const file = path === '' ? page : normalize(join(dirname(page), path));
    expect({ target, exists: existsSync(file) }).toEqual({ target, exists: true });
    if (hash !== undefined) expect([...anchorsOf(file)]).toContain(hash);
  });
});
