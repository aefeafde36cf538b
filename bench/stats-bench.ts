// The statistics half of `npm run bench -- --scale`: a million evaluations of one label over
// 30 days; stats grouped by workflow and day through Assay against the very same aggregate
// statement run straight on the database; and the NDJSON export of all of them, its rows/s
// and how much the server's resident memory grows meanwhile.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { aggregateSql, MEASURES, statsGroups } from '../src/stats/stats-sql.js';

export const STATS_ROWS = 1_000_000;
const WORKFLOWS = 5;
const REPEATS = 5;

export interface StatsBench {
  rows: number;
  groups: number;
  /** Medians over REPEATS, in ms. */
  statsHttpMs: number;
  statsDirectMs: number;
  /** Assay / direct. */
  statsRatio: number;
  exportRows: number;
  exportSeconds: number;
  exportRowsPerSecond: number;
  /** Largest resident-memory growth of the server during the export, in MB. */
  exportRssGrowthMb: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function fill(client: pg.Client, labelId: string): Promise<void> {
  await client.query(`INSERT INTO runs (account_id, id, name, workflow, status, created_at)
    SELECT 'bench', gen_random_uuid(), 'stats ' || n, 'workflow-' || (n % ${WORKFLOWS}), 'succeeded',
           now() - interval '30 days'
      FROM generate_series(1, 1000) n`);
  // Spread evenly over the last 30 days and written in time order, as evaluations are;
  // each run gets every 1,000th.
  await client.query(
    `WITH r AS (SELECT id, (row_number() OVER (ORDER BY id)) - 1 AS k
                  FROM runs WHERE account_id = 'bench' AND name LIKE 'stats %')
     INSERT INTO run_evaluations (id, account_id, run_id, evaluation_label_id, value, created_by, created_at, updated_at, label_version)
     SELECT gen_random_uuid(), 'bench', r.id, $1, round((random() * 5)::numeric, 1), 'filler', t.at, t.at, 1
       FROM generate_series(0, ${STATS_ROWS - 1}) n
       JOIN r ON r.k = n % 1000
       CROSS JOIN LATERAL (SELECT now() - interval '30 days'
                                  + n * (interval '30 days' / ${STATS_ROWS})) t(at)
      ORDER BY n`,
    [labelId],
  );
  await client.query('ANALYZE');
}

/** A new continuous label from 0 to 5, through Assay: its id. */
export async function continuousLabel(
  assayUrl: string,
  headers: Record<string, string>,
  name: string,
): Promise<string> {
  const res = await fetch(`${assayUrl}/v1/evaluation-labels`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name, value_type: 'continuous', min_value: 0, max_value: 5 }),
  });
  return ((await res.json()) as { id: string }).id;
}

/** Streams the export, counting rows, while sampling the server's RSS every 50 ms. */
async function timeExport(
  url: string,
  headers: Record<string, string>,
  labelId: string,
  pid: number,
) {
  const before = rssMb(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  const started = performance.now();
  let rows = 0;
  try {
    const res = await fetch(`${url}/v1/evaluations?evaluation_label_id=${labelId}`, {
      headers: { ...headers, accept: 'application/x-ndjson' },
    });
    if (res.status !== 200 || !res.body) throw new Error(`export: ${res.status}`);
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      for (const byte of chunk) if (byte === 10) rows++;
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  return { rows, seconds, growth: peak - before };
}

export async function benchStatistics(
  databaseUrl: string,
  assayUrl: string,
  assayPid: number,
  headers: Record<string, string>,
): Promise<StatsBench> {
  const labelId = await continuousLabel(assayUrl, headers, 'bench statistics');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await fill(client, labelId);
    const sql = aggregateSql(
      { accountId: 'bench', labelId, filters: {} },
      statsGroups(['workflow'], 'day'),
      MEASURES.continuous,
    );
    const statsUrl = `${assayUrl}/v1/evaluation-label/${labelId}/stats?group_by=workflow&interval=day`;
    const viaHttp = async () => {
      const started = performance.now();
      const res = await fetch(statsUrl, { headers });
      const body = (await res.json()) as { groups: unknown[] };
      if (res.status !== 200) throw new Error(`stats: ${res.status} ${JSON.stringify(body)}`);
      return { ms: performance.now() - started, groups: body.groups.length };
    };
    const direct = async () => {
      const started = performance.now();
      const { rows } = await client.query(sql.text, sql.params);
      return { ms: performance.now() - started, groups: rows.length };
    };
    // One warm-up each (cold caches are not what is compared), then turns.
    await viaHttp();
    await direct();
    const http: number[] = [];
    const db: number[] = [];
    let groups = 0;
    for (let i = 0; i < REPEATS; i++) {
      const a = await viaHttp();
      const b = await direct();
      if (a.groups !== b.groups) throw new Error(`stats: ${a.groups} groups, directly ${b.groups}`);
      groups = a.groups;
      http.push(a.ms);
      db.push(b.ms);
    }
    const exported = await timeExport(assayUrl, headers, labelId, assayPid);
    if (exported.rows !== STATS_ROWS) {
      throw new Error(`export: ${exported.rows} rows, expected ${STATS_ROWS}`);
    }
    return {
      rows: STATS_ROWS,
      groups,
      statsHttpMs: median(http),
      statsDirectMs: median(db),
      statsRatio: median(http.map((h, i) => h / db[i])),
      exportRows: exported.rows,
      exportSeconds: exported.seconds,
      exportRowsPerSecond: exported.rows / exported.seconds,
      exportRssGrowthMb: exported.growth,
    };
  } finally {
    await client.end();
  }
}

export function printStatsBench(s: StatsBench): void {
  console.log(
    `\nStatistics over ${s.rows.toLocaleString('en')} evaluations of one label, 30 days:`,
  );
  console.table([
    {
      'stats by workflow and day': `${s.groups} groups`,
      'Assay ms': Math.round(s.statsHttpMs),
      'same SQL on the database ms': Math.round(s.statsDirectMs),
      'ratio (target ≤ 1.5)': s.statsRatio.toFixed(2),
    },
  ]);
  console.table([
    {
      'NDJSON export rows': s.exportRows,
      seconds: s.exportSeconds.toFixed(1),
      'rows/s (target ≥ 50,000)': Math.round(s.exportRowsPerSecond),
      'server RSS growth MB (target ≤ 50)': s.exportRssGrowthMb.toFixed(1),
    },
  ]);
}
