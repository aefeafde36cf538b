// `npm run bench [-- --duration 10 --connections 32 --scale]`: how fast Assay records and serves
// evaluations, against a bare Fastify + pg baseline doing the same work. Uses the PostgreSQL
// server at BENCH_DATABASE_URL (its database is emptied), else the embedded database, where
// only Assay is measured (the baseline and --scale need the server).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';
import pg from 'pg';

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
}

export interface BenchOptions {
  databaseUrl?: string;
  durationSeconds?: number;
  /** A fixed number of requests per workload instead of a duration (the smoke test). */
  amount?: number;
  connections: number;
  baseline: boolean;
  scale: boolean;
}

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
}

/** Assay's heap cap, as `npm start` sets it (package.json config.heapMb). */
const HEAP_MB = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    config: { heapMb: string };
  }
).config.heapMb;

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
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return { name, url: `http://127.0.0.1:${port}`, child };
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
  if (server.child.exitCode !== null) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
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
async function seed(assayUrl: string): Promise<Seed> {
  const label = await call(`${assayUrl}/v1/evaluation-labels`, 'POST', {
    name: 'bench quality',
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
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];

const WORKLOADS: Workload[] = [
  {
    name: 'POST evaluation',
    method: 'POST',
    path: (s) => `/v1/run/${s.postRunId}/evaluations`,
    body: (s) =>
      JSON.stringify({
        evaluation_label_id: s.labelId,
        value: Math.round(Math.random() * 50) / 10,
      }),
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

async function drive(url: string, w: Workload, seedData: Seed, o: BenchOptions): Promise<Figures> {
  const result = await autocannon({
    url,
    connections: o.connections,
    ...(o.amount ? { amount: o.amount } : { duration: o.durationSeconds ?? 10 }),
    headers: HEADERS,
    requests: [
      {
        method: w.method,
        setupRequest: (req) => ({ ...req, path: w.path(seedData), body: w.body?.(seedData) }),
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
  };
}

/** Puts a million evaluations into other runs, straight through SQL. */
async function scaleUp(databaseUrl: string, labelId: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`INSERT INTO runs (account_id, id, name, created_at)
      SELECT 'bench', gen_random_uuid(), 'filler ' || n, now() FROM generate_series(1, 1000) n`);
    await client.query(
      `INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, value, created_by, created_at, updated_at)
       SELECT gen_random_uuid(), 'bench', r.id, $1, (n % 6), 'filler', now() - (n || ' ms')::interval, now()
         FROM runs r CROSS JOIN generate_series(1, 1000) n
        WHERE r.account_id = 'bench' AND r.name LIKE 'filler %'`,
      [labelId],
    );
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

async function resetDatabase(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  await client.end();
}

export interface BenchReport {
  database: string;
  connections: number;
  rows: { workload: string; assay: Figures; baseline?: Figures }[];
  scale?: { workload: string; small: Figures; large: Figures }[];
  peakRssMb: { assay: number; baseline?: number };
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const dist = join(import.meta.dirname, '..');
  const env: Record<string, string> = o.databaseUrl
    ? { DATABASE_URL: o.databaseUrl }
    : { DATA_DIR: mkdtempSync(join(tmpdir(), 'assay-bench-')) };
  if (o.databaseUrl) await resetDatabase(o.databaseUrl);
  const assay = start('Assay', join(dist, 'src/main.js'), 3901, env, [
    `--max-old-space-size=${HEAP_MB}`,
  ]);
  const servers = [assay];
  try {
    await waitReady(assay, '/health/ready');
    const seedData = await seed(assay.url);
    let baseline: Server | undefined;
    if (o.baseline && o.databaseUrl) {
      baseline = start('baseline', join(dist, 'bench/baseline.js'), 3902, env);
      servers.push(baseline);
      await waitReady(baseline, '/');
    }
    const rows: BenchReport['rows'] = [];
    for (const w of WORKLOADS) {
      const row: BenchReport['rows'][number] = {
        workload: w.name,
        assay: await drive(assay.url, w, seedData, o),
      };
      if (baseline) row.baseline = await drive(baseline.url, w, seedData, o);
      rows.push(row);
    }
    let scale: BenchReport['scale'];
    if (o.scale && o.databaseUrl) {
      const before = [];
      for (const w of [WORKLOADS[1], PAGE]) before.push(await drive(assay.url, w, seedData, o));
      await scaleUp(o.databaseUrl, seedData.labelId);
      scale = [];
      for (const [i, w] of [WORKLOADS[1], PAGE].entries()) {
        scale.push({
          workload: w.name,
          small: before[i],
          large: await drive(assay.url, w, seedData, o),
        });
      }
    }
    return {
      database: o.databaseUrl ? 'PostgreSQL server' : 'embedded PGlite',
      connections: o.connections,
      rows,
      scale,
      peakRssMb: { assay: peakRssMb(assay), baseline: baseline && peakRssMb(baseline) },
    };
  } finally {
    for (const s of servers) await stop(s);
  }
}

const ratio = (a: number, b?: number) => (b ? (a / b).toFixed(2) : '-');

export function printReport(r: BenchReport): void {
  console.log(`\nAssay benchmark on ${r.database}, ${r.connections} connections\n`);
  const table = r.rows.map(({ workload, assay, baseline }) => ({
    workload,
    'req/s': assay.requestsPerSecond,
    'p50 ms': assay.p50,
    'p99 ms': assay.p99,
    'non-2xx': assay.non2xx + assay.errors,
    'baseline req/s': baseline?.requestsPerSecond ?? '-',
    'baseline p99 ms': baseline?.p99 ?? '-',
    'req/s ratio': ratio(assay.requestsPerSecond, baseline?.requestsPerSecond),
    'p50 ratio': ratio(assay.p50, baseline?.p50),
    'p99 ratio': ratio(assay.p99, baseline?.p99),
  }));
  console.table(table);
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
  const b = r.peakRssMb.baseline;
  console.log(
    `\npeak RSS: Assay ${r.peakRssMb.assay.toFixed(0)} MB` +
      (b ? `, baseline ${b.toFixed(0)} MB, ratio ${ratio(r.peakRssMb.assay, b)}` : ''),
  );
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '32' },
      amount: { type: 'string' },
      scale: { type: 'boolean', default: false },
      'no-baseline': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results/latest.json' },
    },
  });
  const databaseUrl = process.env.BENCH_DATABASE_URL || undefined;
  if (!databaseUrl) console.log('BENCH_DATABASE_URL is not set: embedded database, Assay only.');
  const report = await runBench({
    databaseUrl,
    durationSeconds: Number(values.duration),
    amount: values.amount ? Number(values.amount) : undefined,
    connections: Number(values.connections),
    baseline: !values['no-baseline'],
    scale: values.scale,
  });
  printReport(report);
  mkdirSync(join(values.out, '..'), { recursive: true });
  writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`figures written to ${values.out}`);
  const failed = report.rows.some(
    (r) =>
      r.assay.non2xx + r.assay.errors > 0 ||
      (r.baseline && r.baseline.non2xx + r.baseline.errors > 0),
  );
  if (failed) {
    console.error('some requests failed: the figures are not valid');
    process.exitCode = 1;
  }
}
