// `npm run bench -- --overview`: the dashboard's overview of every label
// (GET /v1/evaluation-labels/stats) over 100,000 evaluations of 20 labels (five of each value
// type) from 1,000 runs in five workflows, spread over 30 days, on the embedded database
// and, with BENCH_DATABASE_URL, on the PostgreSQL server (its database is emptied). Assay
// runs in this process; the evaluations are written straight into the table. Then the
// dashboard itself in Chromium (bench/dashboard-bench.ts): what its first load transfers,
// how soon the overview and a label's view show every number, and a new evaluation.
import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import { createApp } from '../src/app.factory.js';
import { loadSettings } from '../src/config/settings.js';
import { dataSourceOptions, IN_MEMORY } from '../src/database/data-source-options.js';
import { benchDashboard, type DashboardBenchRow } from './dashboard-bench.js';

export const OVERVIEW_EVALUATIONS = 100_000;
export const OVERVIEW_LABELS = 20;
const REPEATS = 5;
const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';

/** Five labels of each value type. */
const DEFINITIONS = [
  { value_type: 'binary' },
  { value_type: 'continuous', min_value: 0, max_value: 5 },
  { value_type: 'ordinal', categories: ['bad', 'fair', 'good', 'great'] },
  { value_type: 'categorical', categories: ['refund', 'bug', 'question'] },
];

export interface OverviewBenchRow {
  database: string;
  query: string;
  /** Labels answered, and the time buckets of their trends together. */
  labels: number;
  buckets: number;
  /** Over REPEATS after a warm-up, in ms. */
  medianMs: number;
  maxMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function seed(url: string, headers: Record<string, string>, ds: DataSource) {
  const labels: { id: string; value_type: string }[] = [];
  for (let i = 0; i < OVERVIEW_LABELS; i++) {
    const def = DEFINITIONS[i % DEFINITIONS.length];
    const res = await fetch(`${url}/v1/evaluation-labels`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: `overview ${i}`, ...def }),
    });
    labels.push((await res.json()) as { id: string; value_type: string });
  }
  await ds.query(`INSERT INTO runs (account_id, id, name, workflow, status, created_at)
    SELECT 'bench', gen_random_uuid(), 'overview ' || n, 'workflow-' || (n % 5), 'succeeded',
           now() - interval '30 days'
      FROM generate_series(1, 1000) n`);
  // In time order over the last 30 days; evaluation n is of label n mod 20 and run n mod 1000.
  await ds.query(
    `WITH r AS (SELECT id, (row_number() OVER (ORDER BY id)) - 1 AS k
                  FROM runs WHERE account_id = 'bench' AND name LIKE 'overview %'),
          l AS (SELECT id, type, k - 1 AS k FROM unnest($1::uuid[], $2::text[])
                  WITH ORDINALITY AS l(id, type, k))
     INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, value, created_by,
                                  created_at, updated_at, label_version)
     SELECT gen_random_uuid(), 'bench', r.id, l.id,
            CASE l.type WHEN 'binary' THEN (random() < 0.7)::int
                        WHEN 'continuous' THEN round((random() * 5)::numeric, 1)
                        WHEN 'ordinal' THEN floor(random() * 4)
                        ELSE floor(random() * 3) END,
            'filler', t.at, t.at, 1
       FROM generate_series(0, ${OVERVIEW_EVALUATIONS - 1}) n
       JOIN r ON r.k = n % 1000
       JOIN l ON l.k = n % ${OVERVIEW_LABELS}
       CROSS JOIN LATERAL (SELECT now() - interval '30 days'
                                  + n * (interval '30 days' / ${OVERVIEW_EVALUATIONS})) t(at)
      ORDER BY n`,
    [labels.map((l) => l.id), labels.map((l) => l.value_type)],
  );
  await ds.query('ANALYZE');
  return labels;
}

/** The overview on one database: seeded, then timed for each query. */
async function benchOn(
  database: string,
  env: Record<string, string>,
): Promise<{ overview: OverviewBenchRow[]; dashboard: DashboardBenchRow }> {
  const settings = loadSettings({
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    JWT_SECRET: SECRET,
    RATE_LIMIT: '0',
    // Seeding writes the 100,000 rows in one statement; the overview has DB_STATS_TIMEOUT.
    DB_STATEMENT_TIMEOUT: '600000',
    ...env,
  });
  if (settings.DATABASE_URL) {
    const ds = await new DataSource(dataSourceOptions(settings)).initialize();
    await ds.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    await ds.destroy();
  }
  const app = await createApp(settings);
  try {
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const token = jwt.sign({ sub: 'bench', account_id: 'bench' }, SECRET, { expiresIn: '1h' });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const labels = await seed(url, headers, app.get(DataSource));
    const rows: OverviewBenchRow[] = [];
    for (const query of ['', '?interval=hour', '?workflow=workflow-1&interval=week']) {
      const once = async () => {
        const started = performance.now();
        const res = await fetch(`${url}/v1/evaluation-labels/stats${query}`, { headers });
        const body = (await res.json()) as { items: { figures: { n: number }; trend: [] }[] };
        if (res.status !== 200) throw new Error(`overview: ${res.status} ${JSON.stringify(body)}`);
        return { ms: performance.now() - started, body };
      };
      const { body } = await once();
      const n = body.items.reduce((sum, i) => sum + i.figures.n, 0);
      if (
        body.items.length !== OVERVIEW_LABELS ||
        (!query.includes('workflow') && n !== OVERVIEW_EVALUATIONS)
      ) {
        throw new Error(`overview: ${body.items.length} labels, ${n} evaluations`);
      }
      const ms: number[] = [];
      for (let i = 0; i < REPEATS; i++) ms.push((await once()).ms);
      rows.push({
        database,
        query: `/v1/evaluation-labels/stats${query}`,
        labels: body.items.length,
        buckets: body.items.reduce((sum, i) => sum + i.trend.length, 0),
        medianMs: median(ms),
        maxMs: Math.max(...ms),
      });
    }
    const dashboard = await benchDashboard(database, url, token, labels[1].id, OVERVIEW_LABELS);
    return { overview: rows, dashboard };
  } finally {
    await app.close();
  }
}

export async function benchOverview(
  databaseUrl?: string,
): Promise<{ overview: OverviewBenchRow[]; dashboard: DashboardBenchRow[] }> {
  const runs = [await benchOn('embedded PGlite', { DATA_DIR: IN_MEMORY })];
  if (databaseUrl) runs.push(await benchOn('PostgreSQL server', { DATABASE_URL: databaseUrl }));
  return { overview: runs.flatMap((r) => r.overview), dashboard: runs.map((r) => r.dashboard) };
}

export function printOverviewBench(rows: OverviewBenchRow[]): void {
  console.log(
    `\nOverview of every label: ${OVERVIEW_EVALUATIONS.toLocaleString('en')} evaluations of ` +
      `${OVERVIEW_LABELS} labels over 30 days (targets: server 1,500 ms, PGlite 3,000 ms):`,
  );
  console.table(
    rows.map((r) => ({
      database: r.database,
      query: r.query,
      'labels / trend buckets': `${r.labels} / ${r.buckets}`,
      'median ms': Math.round(r.medianMs),
      'max ms': Math.round(r.maxMs),
    })),
  );
}
