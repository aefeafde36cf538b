// `npm run bench [-- --duration 10 --connections 32 --rounds 3 --scale --reviews --webhooks
// --express --control --only POST --profile DIR]` (`--overview` alone: bench/overview-bench.ts): how fast
// Assay records and serves evaluations, against a bare Fastify + pg baseline doing the same
// work and the minimal Nest app of the stack it requires (both with the baseline), against
// itself with METRICS_ENABLED=false and with
// EVENTS_ENABLED=false (what metrics and the outbox cost), and with --control against a
// second, identical Assay (the bench's own noise). Uses the PostgreSQL server at
// BENCH_DATABASE_URL (its database is emptied), else the embedded database, where only
// Assay is measured (the others, --express, --control and --scale need the server). With
// BENCH_NATS_URL, an Assay instance then relays the events there, and the time from commit
// to the broker's acknowledgement is measured. --webhooks (server database) adds the webhook
// scenario (bench/webhook-bench.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import {
  BATCH,
  BATCH_CONNECTIONS,
  CONNECTIONS,
  DURATION_SECONDS,
  ROUNDS,
  WARM_UP,
} from './defaults.js';
import { type AgreementBench, benchAgreement, printAgreementBench } from './agreement-bench.js';
import { printDashboardBench } from './dashboard-bench.js';
import { benchOverview, printOverviewBench } from './overview-bench.js';
import { benchReviews, printReviewBench, type ReviewBench } from './review-bench.js';
import { benchStatistics, printStatsBench, type StatsBench } from './stats-bench.js';
import { benchWebhooks, printWebhookBench, type WebhookBench } from './webhook-bench.js';

const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';
const TOKEN = jwt.sign({ sub: 'bench', account_id: 'bench' }, SECRET, { expiresIn: '2h' });
const HEADERS = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

export interface Figures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  requests: number;
  /** The server process's CPU time per request, in µs (every thread: JS, GC, libuv). */
  cpuUsPerRequest: number;
}

export interface BenchOptions {
  databaseUrl?: string;
  durationSeconds?: number;
  /** A fixed number of requests per workload instead of a duration (the smoke test). */
  amount?: number;
  connections: number;
  /**
   * Each server's pool of database connections (DB_POOL_SIZE), when not Assay's default:
   * three pools of 32 beside other users of a shared server may not fit its 100 connections.
   */
  pool?: number;
  /** Rounds per workload; every figure printed is the median over them. */
  rounds?: number;
  baseline: boolean;
  /** Also run Assay on Nest's Express adapter (server database only), to compare adapters. */
  express?: boolean;
  /** Also run Assay with METRICS_ENABLED=false (server database only): what metrics cost. */
  metricsOff?: boolean;
  /** Also run Assay with EVENTS_ENABLED=false (server database only): what the outbox costs. */
  eventsOff?: boolean;
  /**
   * Also run a second Assay, set as the first (server database only): its ratios are what
   * the bench's own noise and order make of two identical servers.
   */
  control?: boolean;
  /** NATS for Assay to relay its events to; also measures commit-to-acknowledgement time. */
  natsUrl?: string;
  /** Only the workloads whose name contains this. */
  only?: string;
  /** A folder for V8 CPU profiles: one subfolder per server (assay, baseline, nest…). */
  profile?: string;
  /** Also the webhook scenario (server database only): delivery lag and write cost. */
  webhooks?: boolean;
  scale: boolean;
  /** Also measure review queues: claim + review against a POST, and claims among a million items. */
  reviews?: boolean;
}

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  /** Settles when the process is gone, however it ended (Nest re-raises SIGTERM). */
  exited: Promise<unknown>;
}

/** Assay's heap sizes, as `npm start` sets them (package.json config.heapMb, semiSpaceMb). */
const { heapMb: HEAP_MB, semiSpaceMb: SEMI_SPACE_MB } = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    config: { heapMb: string; semiSpaceMb: string };
  }
).config;

function start(
  name: string,
  script: string,
  port: number,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Server {
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      // The limit is checked on every request, as in production, but never reached.
      RATE_LIMIT: String(1e9),
      // Every instance shares the webhook deliveries of its database (--webhooks): each may
      // deliver to the receiver on this machine.
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_ALLOW_HTTP: 'true',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { name, url: `http://127.0.0.1:${port}`, child, exited };
}

async function waitReady(server: Server, path: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(server.url + path)).status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${server.name} did not start`);
}

async function stop(server: Server): Promise<void> {
  server.child.kill('SIGTERM'); // a no-op if it has already stopped
  await server.exited;
}

/** Peak resident memory of a process, in MB (VmHWM: the kernel's high-water mark). */
function peakRssMb(server: Server): number {
  const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function call(
  url: string,
  method: string,
  body?: unknown,
): Promise<{ id: string } & Record<string, unknown>> {
  const res = await fetch(url, {
    method,
    headers: HEADERS,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string };
}

interface Seed {
  labelId: string;
  listRunId: string;
  postRunId: string;
  evaluationIds: string[];
  pageCursor: string;
}

/** A label, a run with 100 evaluations (listed, read, updated) and a run to post to. */
async function seed(assayUrl: string, labelName = 'bench quality'): Promise<Seed> {
  const label = await call(`${assayUrl}/v1/evaluation-labels`, 'POST', {
    name: labelName,
    value_type: 'continuous',
    min_value: 0,
    max_value: 5,
  });
  const listRun = await call(`${assayUrl}/v1/runs`, 'POST', {
    name: 'listed',
    outputs: { answer: { score: 1 } },
  });
  const postRun = await call(`${assayUrl}/v1/runs`, 'POST', { name: 'posted to' });
  const evaluationIds: string[] = [];
  for (let i = 0; i < 100; i++) {
    const e = await call(`${assayUrl}/v1/run/${listRun.id}/evaluations`, 'POST', {
      evaluation_label_id: label.id,
      value: i % 6,
    });
    evaluationIds.push(e.id);
  }
  const half = await fetch(`${assayUrl}/v1/run/${listRun.id}/evaluations?limit=50`, {
    headers: HEADERS,
  });
  const pageCursor = /cursor=([^&>]+)/.exec(half.headers.get('link') ?? '')?.[1] ?? '';
  return {
    labelId: label.id,
    listRunId: listRun.id,
    postRunId: postRun.id,
    evaluationIds,
    pageCursor,
  };
}

interface Workload {
  name: string;
  method: 'GET' | 'POST' | 'PUT';
  path: (seed: Seed) => string;
  body?: (seed: Seed) => string;
  headers?: () => Record<string, string>;
  /** Connections for this workload, when not the run's own. */
  connections?: number;
  /** Evaluations each request writes, for a batch. */
  evaluations?: number;
}

const randomValue = () => Math.round(Math.random() * 50) / 10;

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];

const POST: Workload = {
  name: 'POST evaluation',
  method: 'POST',
  path: (s) => `/v1/run/${s.postRunId}/evaluations`,
  body: (s) => JSON.stringify({ evaluation_label_id: s.labelId, value: randomValue() }),
  evaluations: 1,
};

const WORKLOADS: Workload[] = [
  POST,
  {
    ...POST,
    name: 'POST with Idempotency-Key',
    headers: () => ({ 'idempotency-key': randomUUID() }),
  },
  {
    name: `POST batch (${BATCH}, ${BATCH_CONNECTIONS} clients)`,
    method: 'POST',
    path: () => '/v1/evaluations/batch',
    body: (s) =>
      JSON.stringify({
        items: Array.from({ length: BATCH }, () => ({
          run_id: s.postRunId,
          evaluation_label_id: s.labelId,
          value: randomValue(),
        })),
      }),
    connections: BATCH_CONNECTIONS,
    evaluations: BATCH,
  },
  { name: 'GET list (100)', method: 'GET', path: (s) => `/v1/run/${s.listRunId}/evaluations` },
  {
    name: 'GET one',
    method: 'GET',
    path: (s) => `/v1/run/${s.listRunId}/evaluation/${pick(s.evaluationIds)}`,
  },
  {
    name: 'PUT value',
    method: 'PUT',
    path: (s) => `/v1/run/${s.listRunId}/evaluation/${pick(s.evaluationIds)}`,
    body: () => JSON.stringify({ value: Math.round(Math.random() * 50) / 10 }),
  },
];

const PAGE: Workload = {
  name: 'GET page (10, by cursor)',
  method: 'GET',
  path: (s) => `/v1/run/${s.listRunId}/evaluations?limit=10&cursor=${s.pageCursor}`,
};

/**
 * CPU time a process has used so far, in µs, from the scheduler's per-thread nanosecond
 * counters: far finer than the 10 ms ticks of /proc/<pid>/stat.
 */
function cpuUs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1000;
}

/** CPU time so far of each PostgreSQL process on this machine (a server on it), in µs. */
function postgresCpuUs(): Map<string, number> {
  const cpu = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres')
        cpu.set(pid, cpuUs(Number(pid)));
    } catch {
      // the process ended meanwhile
    }
  }
  return cpu;
}

/** PostgreSQL's CPU between two readings; a process that ended meanwhile counts for none. */
function postgresCpuSince(before: Map<string, number>): number {
  let us = 0;
  for (const [pid, now] of postgresCpuUs()) us += now - (before.get(pid) ?? 0);
  return us;
}

async function drive(
  server: Server,
  w: Workload,
  seedData: Seed,
  o: BenchOptions,
  amount = o.amount,
): Promise<Figures> {
  const connections = Math.min(w.connections ?? o.connections, o.connections);
  const cpuBefore = cpuUs(server.child.pid!);
  const result = await autocannon({
    url: server.url,
    connections,
    ...(amount
      ? { amount: Math.max(connections, Math.round(amount / (w.evaluations ?? 1))) }
      : { duration: o.durationSeconds ?? DURATION_SECONDS }),
    headers: HEADERS,
    requests: [
      {
        method: w.method,
        setupRequest: (req) => ({
          ...req,
          path: w.path(seedData),
          body: w.body?.(seedData),
          headers: { ...req.headers, ...w.headers?.() },
        }),
      },
    ],
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    requests: result.requests.total,
    cpuUsPerRequest: (cpuUs(server.child.pid!) - cpuBefore) / result.requests.total,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** The median of each figure over the rounds; failures and requests are summed. */
function combine(rounds: Figures[]): Figures {
  const sum = (k: keyof Figures) => rounds.reduce((n, f) => n + f[k], 0);
  return {
    requestsPerSecond: median(rounds.map((f) => f.requestsPerSecond)),
    p50: median(rounds.map((f) => f.p50)),
    p99: median(rounds.map((f) => f.p99)),
    cpuUsPerRequest: median(rounds.map((f) => f.cpuUsPerRequest)),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    requests: sum('requests'),
  };
}

export interface Ratios {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  cpuUsPerRequest: number;
}

/** Median of the per-round ratios: each round's pair ran back to back, under the same load. */
function pairedRatios(a: Figures[], b: Figures[]): Ratios {
  const of = (k: keyof Ratios) => median(a.map((f, i) => f[k] / b[i][k]));
  return {
    requestsPerSecond: of('requestsPerSecond'),
    p50: of('p50'),
    p99: of('p99'),
    cpuUsPerRequest: of('cpuUsPerRequest'),
  };
}

/**
 * Drives one workload against every server: a warm-up pass each (the JIT should not be
 * measured), then `rounds` rounds in which the servers take turns, the order rotating, so
 * that a slow spell of the shared machine falls on all of them alike.
 */
async function measure(
  servers: Server[],
  w: Workload,
  seedData: Seed,
  o: BenchOptions,
): Promise<Figures[][]> {
  const warmUp = Math.max(1, Math.round((WARM_UP * o.connections) / (w.evaluations ?? 1)));
  for (const s of servers) await drive(s, w, seedData, o, warmUp * (w.evaluations ?? 1));
  const figures: Figures[][] = servers.map(() => []);
  for (let round = 0; round < (o.rounds ?? 1); round++) {
    for (let k = 0; k < servers.length; k++) {
      const i = (k + round) % servers.length;
      if (o.databaseUrl) await vacuum(o.databaseUrl);
      figures[i].push(await drive(servers[i], w, seedData, o));
    }
  }
  return figures;
}

/**
 * Vacuums what the workloads write, so that every drive starts from the same state: where
 * autovacuum is off, the dead rows of earlier drives (PUT's updates of one row, above all)
 * would slow whichever server drives later.
 */
async function vacuum(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `VACUUM (ANALYZE) run_evaluations, evaluation_changes, outbox_writes, idempotency_keys,
         runs, evaluation_labels`,
    );
  } finally {
    await client.end();
  }
}

/** Puts a million evaluations into other runs, straight through SQL. */
async function scaleUp(databaseUrl: string, labelId: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`INSERT INTO runs (account_id, id, name, created_at)
      SELECT 'bench', gen_random_uuid(), 'filler ' || n, now() FROM generate_series(1, 1000) n`);
    await client.query(
      `INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, value, created_by, created_at, updated_at, label_version)
       SELECT gen_random_uuid(), 'bench', r.id, $1, (n % 6), 'filler', now() - (n || ' ms')::interval, now(), 1
         FROM runs r CROSS JOIN generate_series(1, 1000) n
        WHERE r.account_id = 'bench' AND r.name LIKE 'filler %'`,
      [labelId],
    );
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

// SQLSTATE of a connection to a database that does not exist.
const INVALID_CATALOG_NAME = '3D000';

/** Empties the bench's database, creating it first when the server has none of that name. */
async function resetDatabase(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
  } catch (err) {
    if ((err as { code?: string }).code !== INVALID_CATALOG_NAME) throw err;
    const url = new URL(databaseUrl);
    const name = decodeURIComponent(url.pathname.slice(1));
    url.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`).finally(() => admin.end());
    return resetDatabase(databaseUrl);
  }
  await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  await client.end();
}

/** What Assay is measured against, each in the same rounds: another server, or Assay itself otherwise set. */
type Rival = 'baseline' | 'nest' | 'express' | 'metricsOff' | 'eventsOff' | 'control';

const RIVALS_AT_ONCE = 2;

/** `heap`: Assay's heap sizes; the rivals that are Assay (`heap` set) are seeded as Assay was. */
const RIVALS: Record<
  Rival,
  { name: string; script: string; port: number; env?: Record<string, string>; heap: boolean }
> = {
  baseline: { name: 'baseline', script: 'bench/baseline.js', port: 3902, heap: false },
  nest: { name: 'minimal Nest app', script: 'bench/nest-floor.js', port: 3908, heap: false },
  express: { name: 'Assay on Express', script: 'bench/express-main.js', port: 3903, heap: true },
  metricsOff: {
    name: 'Assay without metrics',
    script: 'src/main.js',
    port: 3904,
    env: { METRICS_ENABLED: 'false' },
    heap: true,
  },
  eventsOff: {
    name: 'Assay without events',
    script: 'src/main.js',
    port: 3905,
    env: { EVENTS_ENABLED: 'false' },
    heap: true,
  },
  control: { name: 'Assay again', script: 'src/main.js', port: 3907, heap: true },
};

export interface BenchRow {
  workload: string;
  /** Evaluations each request writes (writes only). */
  evaluations?: number;
  assay: Figures;
  /** Each rival's figures, and Assay's paired ratios to them (Assay / rival). */
  rivals: Partial<Record<Rival, { figures: Figures; ratios: Ratios }>>;
  /** The minimal Nest app's paired ratios to the baseline: what the required stack costs. */
  stack?: Ratios;
}

export interface BenchReport {
  database: string;
  connections: number;
  rounds: number;
  rows: BenchRow[];
  scale?: { workload: string; small: Figures; large: Figures }[];
  /** --scale: statistics and the export over a million evaluations of one label. */
  statistics?: StatsBench;
  /** --scale: agreement and paired compare over 500,000 pairs of evaluations. */
  agreement?: AgreementBench;
  /** --reviews: claim + review against a POST; with the server, claims among a million items. */
  reviews?: ReviewBench;
  /** With NATS: from commit to the broker's acknowledgement at a steady write rate, each
   * drive and the medians over them. */
  relay?: { drives: RelayLatency[]; p50: number; p99: number };
  /** --webhooks: from commit to a receiver's 2xx, and POST throughput with webhooks. */
  webhooks?: WebhookBench;
  peakRssMb: { assay: number } & Partial<Record<Rival, number>>;
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const dist = join(import.meta.dirname, '..');
  const env: Record<string, string> = o.databaseUrl
    ? { DATABASE_URL: o.databaseUrl }
    : { DATA_DIR: mkdtempSync(join(tmpdir(), 'assay-bench-')) };
  if (o.pool) env.DB_POOL_SIZE = String(o.pool);
  if (o.databaseUrl) await resetDatabase(o.databaseUrl);
  const heap = [`--max-old-space-size=${HEAP_MB}`, `--max-semi-space-size=${SEMI_SPACE_MB}`];
  // Every server writes a V8 CPU profile into its own subfolder when it stops (--profile).
  const profiled = (name: string) =>
    o.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(o.profile, name)}`] : [];
  const assay = start('Assay', join(dist, 'src/main.js'), 3901, env, [
    ...heap,
    ...profiled('assay'),
  ]);
  const servers = [assay];
  try {
    await waitReady(assay, '/health/ready');
    const seedData = await seed(assay.url);
    // The rivals need the server database: the embedded one is one process's alone.
    const wanted: Rival[] = o.databaseUrl
      ? (['baseline', 'nest', 'express', 'metricsOff', 'eventsOff', 'control'] as const).filter(
          (r) => o[r === 'nest' ? 'baseline' : r],
        )
      : [];
    const workloads = WORKLOADS.filter((w) => !o.only || w.name.includes(o.only));
    const rows: BenchRow[] = workloads.map((w) => ({
      workload: w.name,
      evaluations: w.evaluations,
      assay: undefined as unknown as Figures, // measured in the first group
      rivals: {},
    }));
    const peakRss: BenchReport['peakRssMb'] = { assay: 0 };
    // Rivals run two at a time beside Assay: three pools of 32 fit PostgreSQL's default
    // 100 connections, five do not.
    for (let g = 0; g === 0 || g < wanted.length; g += RIVALS_AT_ONCE) {
      const group = wanted.slice(g, g + RIVALS_AT_ONCE).map((key) => {
        const r = RIVALS[key];
        const env2 = { ...env, ...r.env };
        const server = start(r.name, join(dist, r.script), r.port, env2, [
          ...(r.heap ? heap : []),
          ...profiled(key),
        ]);
        servers.push(server);
        return { key, server };
      });
      const isAssay = (key: Rival) => RIVALS[key].heap;
      for (const r of group) await waitReady(r.server, isAssay(r.key) ? '/health/ready' : '/');
      for (const r of group) if (isAssay(r.key)) await seed(r.server.url, `bench quality ${r.key}`);
      for (const [k, w] of workloads.entries()) {
        const [a, ...others] = await measure(
          [assay, ...group.map((r) => r.server)],
          w,
          seedData,
          o,
        );
        rows[k].assay ??= combine(a);
        for (const [i, r] of group.entries()) {
          rows[k].rivals[r.key] = {
            figures: combine(others[i]),
            ratios: pairedRatios(a, others[i]),
          };
        }
        const [nest, bare] = (['nest', 'baseline'] as const).map((key) =>
          group.findIndex((r) => r.key === key),
        );
        if (nest >= 0 && bare >= 0) rows[k].stack = pairedRatios(others[nest], others[bare]);
      }
      for (const r of group) peakRss[r.key] = peakRssMb(r.server);
      // Only Assay is measured after a group; the others must not close their idle
      // connections on the server in the middle of its drives.
      for (const r of group) await stop(r.server);
    }
    let relay: BenchReport['relay'];
    if (o.natsUrl && o.databaseUrl) {
      // An instance of its own relays, after the comparisons: relaying the workloads' events
      // would weigh on whichever instance won the lease, round by round.
      const env2 = { ...env, NATS_URL: o.natsUrl };
      const relaying = start('Assay relaying', join(dist, 'src/main.js'), 3906, env2, heap);
      servers.push(relaying);
      await waitReady(relaying, '/health/ready');
      // Several drives, like the rounds of the workloads: one stall of the shared machine
      // (a checkpoint, autovacuum of the outbox) lands on one drive's p99, not on the figure.
      const drives: RelayLatency[] = [];
      for (let i = 0; i < (o.rounds ?? 1); i++) {
        drives.push(await relayLatency(relaying.url, o.databaseUrl, seedData, o.amount ? 2 : 10));
      }
      relay = {
        drives,
        p50: median(drives.map((d) => d.p50)),
        p99: median(drives.map((d) => d.p99)),
      };
      await stop(relaying);
    }
    let webhooks: BenchReport['webhooks'];
    if (o.webhooks && o.databaseUrl) {
      // An instance of its own, as for the relay.
      const hooked = start('Assay with webhooks', join(dist, 'src/main.js'), 3907, env, heap);
      servers.push(hooked);
      await waitReady(hooked, '/health/ready');
      const hookSeed = await seed(hooked.url, 'bench quality webhooks');
      await drive(hooked, POST, hookSeed, o, WARM_UP * o.connections);
      webhooks = await benchWebhooks({
        url: hooked.url,
        databaseUrl: o.databaseUrl,
        headers: HEADERS,
        seconds: o.amount ? 2 : WEBHOOK_SECONDS,
        rounds: o.rounds ?? 1,
        paced,
        postThroughput: async () => {
          await vacuum(o.databaseUrl!);
          const before = postgresCpuUs();
          const f = await drive(hooked, POST, hookSeed, o);
          return {
            requestsPerSecond: f.requestsPerSecond,
            assayCpuUs: Math.round(f.cpuUsPerRequest),
            postgresCpuUs: Math.round(postgresCpuSince(before) / f.requests),
          };
        },
        batchBody: (n) =>
          JSON.stringify({
            items: Array.from({ length: n }, (_, i) => ({
              run_id: hookSeed.postRunId,
              evaluation_label_id: hookSeed.labelId,
              value: i % 5,
            })),
          }),
      });
      await stop(hooked);
    }
    let scale: BenchReport['scale'];
    let statistics: StatsBench | undefined;
    let agreement: AgreementBench | undefined;
    if (o.scale && o.databaseUrl) {
      const listed = [WORKLOADS[3], PAGE];
      const before = [];
      for (const w of listed) before.push(combine((await measure([assay], w, seedData, o))[0]));
      await scaleUp(o.databaseUrl, seedData.labelId);
      scale = [];
      for (const [i, w] of listed.entries()) {
        const after = combine((await measure([assay], w, seedData, o))[0]);
        scale.push({ workload: w.name, small: before[i], large: after });
      }
      statistics = await benchStatistics(o.databaseUrl, assay.url, assay.child.pid!, HEADERS);
      agreement = await benchAgreement(o.databaseUrl, assay.url, assay.child.pid!, HEADERS);
    }
    let reviews: ReviewBench | undefined;
    if (o.reviews) {
      // On the server, the bare baseline takes the same drives in the same rounds.
      const r = RIVALS.baseline;
      const bare = o.databaseUrl ? start(r.name, join(dist, r.script), r.port, env) : undefined;
      if (bare) {
        servers.push(bare);
        await waitReady(bare, '/');
      }
      reviews = await benchReviews({
        url: assay.url,
        secret: SECRET,
        labelId: seedData.labelId,
        seconds: o.amount ? 2 : (o.durationSeconds ?? DURATION_SECONDS),
        rounds: o.rounds ?? 1,
        serverCpuUs: () => cpuUs(assay.child.pid!),
        databaseUrl: o.databaseUrl,
        small: o.amount !== undefined,
        floor: bare && {
          url: bare.url,
          serverCpuUs: () => cpuUs(bare.child.pid!),
          stop: () => stop(bare),
        },
      });
    }
    peakRss.assay = peakRssMb(assay);
    return {
      database: o.databaseUrl ? 'PostgreSQL server' : 'embedded PGlite',
      connections: o.connections,
      rounds: o.rounds ?? 1,
      rows,
      scale,
      statistics,
      agreement,
      reviews,
      relay,
      webhooks,
      peakRssMb: peakRss,
    };
  } finally {
    for (const s of servers) await stop(s);
  }
}

export interface RelayLatency {
  /** Evaluations written per second, as the drive asked and as it got. */
  asked: number;
  written: number;
  /** Evaluations written in all, and their events, every one acknowledged by the broker. */
  evaluations: number;
  events: number;
  p50: number;
  p99: number;
  max: number;
}

const RELAY_BATCH = 10;
/** Seconds of the webhook scenario's steady 1,000 events a second. */
const WEBHOOK_SECONDS = 30;

/**
 * Writes 1,000 evaluations a second (100 batches of 10, one every 10 ms: more than single
 * POSTs reach on a small machine) for `seconds`, waits for the relay to catch up, and reads
 * from the outbox how long each event took from its write (a moment before its commit) to
 * the broker's acknowledgement (sent_at, stamped after it).
 */
async function relayLatency(
  url: string,
  databaseUrl: string,
  s: Seed,
  seconds: number,
): Promise<RelayLatency> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    // Earlier workloads' events go out first: the drive starts on an empty backlog, and on a
    // vacuumed table, as every other drive (relaying a backlog leaves its dead rows behind).
    await drained(db, 300_000);
    await vacuum(databaseUrl);
    const [{ from }] = (await db.query<{ from: Date }>('SELECT clock_timestamp() AS from')).rows;
    const asked = 1000;
    const body = JSON.stringify({
      items: Array.from({ length: RELAY_BATCH }, (_, i) => ({
        run_id: s.postRunId,
        evaluation_label_id: s.labelId,
        value: i % 5,
      })),
    });
    const failed = await paced(`${url}/v1/evaluations/batch`, body, asked / RELAY_BATCH, seconds);
    if (failed.length > 0)
      throw new Error(`relay drive: ${failed.length} writes failed, the first: ${failed[0]}`);
    await drained(db, 60_000);
    const [row] = (
      await db.query<Omit<RelayLatency, 'asked' | 'written'>>(
        `SELECT (SELECT count(*)::int FROM run_evaluations
                  WHERE run_id = $2 AND created_at >= $1) AS evaluations,
                count(*)::int AS events,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
           FROM (SELECT (extract(epoch FROM w.sent_at - w.occurred_at) * 1000)::float8 AS ms
                   FROM outbox_writes w CROSS JOIN LATERAL json_array_elements(w.events) AS e
                  WHERE w.occurred_at >= $1 AND e->>'type' = 'evaluation.created') t`,
        [from, s.postRunId],
      )
    ).rows;
    return { asked, written: Math.round(row.evaluations / seconds), ...row };
  } finally {
    await db.end();
  }
}

/**
 * POSTs `body` `perSecond` times a second, evenly spaced, for `seconds` (autocannon's rate
 * sends each second's requests at once, at the start of the second: a burst, not a rate).
 * Answers what went wrong with each request that failed (its status, or the error).
 */
async function paced(url: string, body: string, perSecond: number, seconds: number) {
  const total = perSecond * seconds;
  const started = performance.now();
  const requests: Promise<string | undefined>[] = [];
  while (requests.length < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * perSecond) / 1000) + 1);
    while (requests.length < due) {
      requests.push(
        fetch(url, { method: 'POST', headers: HEADERS, body }).then(
          async (res) => {
            const text = await res.text();
            return res.ok ? undefined : `${res.status} ${text.slice(0, 200)}`;
          },
          (err: unknown) => `${String(err)} (${String((err as { cause?: unknown }).cause)})`,
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 1000 / perSecond / 2));
  }
  return (await Promise.all(requests)).filter((f): f is string => f !== undefined);
}

/** Waits until every event in the outbox has been relayed. */
async function drained(db: pg.Client, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT coalesce(sum(count - coalesce(cardinality(relayed), 0)), 0)::int AS n
         FROM outbox_writes WHERE sent_at IS NULL`,
    );
    if (rows[0].n === 0) return;
    if (Date.now() > deadline) throw new Error(`the relay left ${rows[0].n} events unsent`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const fixed = (n?: number) => (n === undefined ? '-' : n.toFixed(2));
const ratio = (a: number, b?: number) => fixed(b ? a / b : undefined);

/** Assay against a rival, workload by workload. */
function printVersus(rows: BenchRow[], rival: Rival, [mine, theirs]: [string, string]): void {
  console.table(
    rows.map((row) => {
      const r = row.rivals[rival];
      return {
        workload: row.workload,
        [`${mine} req/s`]: row.assay.requestsPerSecond,
        [`${theirs} req/s`]: r?.figures.requestsPerSecond,
        [`${theirs} p99 ms`]: r?.figures.p99,
        [`${theirs} non-2xx`]: r && r.figures.non2xx + r.figures.errors,
        [`req/s ${mine}/${theirs}`]: fixed(r?.ratios.requestsPerSecond),
        [`p99 ${mine}/${theirs}`]: fixed(r?.ratios.p99),
        [`CPU µs/req ${mine}`]: Math.round(row.assay.cpuUsPerRequest),
        [`CPU µs/req ${theirs}`]: r && Math.round(r.figures.cpuUsPerRequest),
        [`CPU/req ${mine}/${theirs}`]: fixed(r?.ratios.cpuUsPerRequest),
      };
    }),
  );
}

export function printReport(r: BenchReport): void {
  console.log(
    `\nAssay benchmark on ${r.database}, ${r.connections} connections, ` +
      `median of ${r.rounds} round${r.rounds === 1 ? '' : 's'}\n`,
  );
  const table = r.rows.map(({ workload, assay, rivals: { baseline } }) => ({
    workload,
    'req/s': assay.requestsPerSecond,
    'p50 ms': assay.p50,
    'p99 ms': assay.p99,
    'non-2xx': assay.non2xx + assay.errors,
    'baseline req/s': baseline?.figures.requestsPerSecond ?? '-',
    'baseline p99 ms': baseline?.figures.p99 ?? '-',
    'req/s ratio': fixed(baseline?.ratios.requestsPerSecond),
    'p50 ratio': fixed(baseline?.ratios.p50),
    'p99 ratio': fixed(baseline?.ratios.p99),
    'CPU µs/req': Math.round(assay.cpuUsPerRequest),
    'baseline CPU µs/req': baseline ? Math.round(baseline.figures.cpuUsPerRequest) : '-',
  }));
  console.table(table);
  printWriteTargets(r);
  printStack(r);
  const versus: [Rival, string, [string, string]][] = [
    [
      'nest',
      'Assay against the required stack alone (bench/nest-floor.ts), in the same rounds:',
      ['Assay', 'Nest floor'],
    ],
    [
      'express',
      'Assay on the Fastify adapter against Assay on the Express adapter:',
      ['Fastify', 'Express'],
    ],
    [
      'metricsOff',
      'What metrics cost: Assay against Assay with METRICS_ENABLED=false:',
      ['with metrics', 'without'],
    ],
    [
      'eventsOff',
      'What the outbox costs: Assay against Assay with EVENTS_ENABLED=false:',
      ['with events', 'without'],
    ],
    [
      'control',
      "The bench's own noise: Assay against a second, identical Assay (1.00 without noise):",
      ['Assay', 'again'],
    ],
  ];
  for (const [rival, title, names] of versus) {
    if (!r.rows[0]?.rivals[rival]) continue;
    console.log(`\n${title}`);
    printVersus(r.rows, rival, names);
  }
  if (r.relay) {
    const { drives, p50, p99 } = r.relay;
    console.log(
      `\nFrom commit to the broker's acknowledgement, at ${drives[0].asked} evaluations/s asked ` +
        `(median of ${drives.length} drives): p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
    );
    for (const d of drives) {
      console.log(
        `  ${d.written} evaluations/s written, ${d.events} events: p50 ${d.p50.toFixed(0)} ms, ` +
          `p99 ${d.p99.toFixed(0)} ms, max ${d.max.toFixed(0)} ms`,
      );
    }
  }
  if (r.webhooks) printWebhookBench(r.webhooks);
  if (r.scale) {
    console.log('\nWith 1,000,000 more evaluations in the table:');
    console.table(
      r.scale.map(({ workload, small, large }) => ({
        workload,
        'req/s before': small.requestsPerSecond,
        'req/s after': large.requestsPerSecond,
        'p99 before': small.p99,
        'p99 after': large.p99,
        'p99 after/before': ratio(large.p99, small.p99),
      })),
    );
  }
  if (r.statistics) printStatsBench(r.statistics);
  if (r.agreement) printAgreementBench(r.agreement);
  if (r.reviews) printReviewBench(r.reviews);
  const rss = Object.entries(r.peakRssMb)
    .map(([k, mb]) => `${k === 'assay' ? 'Assay' : RIVALS[k as Rival].name} ${mb.toFixed(0)} MB`)
    .join(', ');
  console.log(`\npeak RSS: ${rss}`);
}

/**
 * What the required stack costs: the minimal Nest app (Nest, passport-jwt, class-validator,
 * TypeORM, the baseline's statements) against the bare baseline, paired in the same rounds.
 */
function printStack(r: BenchReport): void {
  if (!r.rows.some((row) => row.stack)) return;
  console.log('\nThe required stack alone: the minimal Nest app against the baseline:');
  console.table(
    r.rows.map((row) => {
      const nest = row.rivals.nest?.figures;
      return {
        workload: row.workload,
        'Nest floor req/s': nest?.requestsPerSecond,
        'req/s Nest floor/baseline': fixed(row.stack?.requestsPerSecond),
        'p99 Nest floor/baseline': fixed(row.stack?.p99),
        'CPU µs/req Nest floor': nest && Math.round(nest.cpuUsPerRequest),
        'CPU/req Nest floor/baseline': fixed(row.stack?.cpuUsPerRequest),
      };
    }),
  );
}

/** The write figures the targets speak of: evaluations stored per second, and their ratios. */
function printWriteTargets(r: BenchReport): void {
  const stored = (row: BenchRow | undefined, f?: 'assay' | 'baseline') =>
    row && f && (f === 'assay' ? row.assay : row.rivals.baseline?.figures)
      ? (f === 'assay' ? row.assay : row.rivals.baseline!.figures).requestsPerSecond *
        (row.evaluations ?? 1)
      : undefined;
  const find = (prefix: string) => r.rows.find((row) => row.workload.startsWith(prefix));
  const [single, keyed, batch] = [
    find('POST evaluation'),
    find('POST with Idempotency-Key'),
    find('POST batch'),
  ];
  console.log('\nEvaluations stored per second:');
  console.table({
    'batch: Assay / baseline': fixed(batch?.rivals.baseline?.ratios.requestsPerSecond),
    'batch Assay / single POST Assay': ratio(stored(batch, 'assay') ?? 0, stored(single, 'assay')),
    'POST with key / without (Assay)': ratio(
      keyed?.assay.requestsPerSecond ?? 0,
      single?.assay.requestsPerSecond,
    ),
    'batch Assay evaluations/s': stored(batch, 'assay') ?? '-',
    'batch baseline evaluations/s': stored(batch, 'baseline') ?? '-',
  });
}

/** Every request of every server answered 2xx: otherwise the figures measure failures. */
export function allSucceeded(r: BenchReport): boolean {
  return r.rows.every((row) =>
    [row.assay, ...Object.values(row.rivals).map((r) => r.figures)].every(
      (f) => f.non2xx + f.errors === 0,
    ),
  );
}

if (process.argv[1] === import.meta.filename) {
  const options = {
    duration: { type: 'string', default: String(DURATION_SECONDS) },
    connections: { type: 'string', default: String(CONNECTIONS) },
    pool: { type: 'string' },
    rounds: { type: 'string', default: String(ROUNDS) },
    express: { type: 'boolean', default: false },
    amount: { type: 'string' },
    scale: { type: 'boolean', default: false },
    reviews: { type: 'boolean', default: false },
    overview: { type: 'boolean', default: false },
    'no-baseline': { type: 'boolean', default: false },
    'no-metrics-off': { type: 'boolean', default: false },
    'no-events-off': { type: 'boolean', default: false },
    control: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'string' },
    webhooks: { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/latest.json' },
  } as const;
  let values: ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];
  try {
    ({ values } = parseArgs({ options }));
  } catch (err) {
    console.error(
      `${(err as Error).message}\nOptions: ${Object.keys(options)
        .map((o) => `--${o}`)
        .join(' ')}`,
    );
    process.exit(2);
  }
  const count = (name: 'duration' | 'connections' | 'rounds' | 'amount' | 'pool') => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) {
      console.error(`--${name} must be a whole number of at least 1, not "${values[name]}"`);
      process.exit(2);
    }
    return n;
  };
  const databaseUrl = process.env.BENCH_DATABASE_URL || undefined;
  for (const flag of ['scale', 'express', 'control', 'webhooks'] as const) {
    if (values[flag] && !databaseUrl) {
      console.error(`--${flag} needs the PostgreSQL server: set BENCH_DATABASE_URL`);
      process.exit(2);
    }
  }
  if (!databaseUrl) console.log('BENCH_DATABASE_URL is not set: embedded database, Assay only.');
  if (values.overview) {
    const { overview, dashboard } = await benchOverview(databaseUrl);
    printOverviewBench(overview);
    printDashboardBench(dashboard);
    mkdirSync(join(values.out, '..'), { recursive: true });
    writeFileSync(values.out, JSON.stringify({ overview, dashboard }, null, 2) + '\n');
    console.log(`figures written to ${values.out}`);
    process.exit(0);
  }
  const report = await runBench({
    databaseUrl,
    durationSeconds: count('duration'),
    amount: values.amount === undefined ? undefined : count('amount'),
    connections: count('connections'),
    pool: values.pool === undefined ? undefined : count('pool'),
    rounds: count('rounds'),
    express: values.express,
    baseline: !values['no-baseline'],
    metricsOff: !values['no-metrics-off'],
    eventsOff: !values['no-events-off'],
    control: values.control,
    natsUrl: process.env.BENCH_NATS_URL || undefined,
    only: values.only,
    profile: values.profile,
    webhooks: values.webhooks,
    scale: values.scale,
    reviews: values.reviews,
  });
  printReport(report);
  mkdirSync(join(values.out, '..'), { recursive: true });
  writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`figures written to ${values.out}`);
  const failed = !allSucceeded(report);
  if (failed) {
    console.error('some requests failed: the figures are not valid');
    process.exitCode = 1;
  }
}
