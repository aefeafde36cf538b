// The review-queue half of `npm run bench -- --reviews`: what a review costs against a plain
// POST of the same evaluation (people each claiming an item and reviewing it, against the
// same number of clients posting), and, on the PostgreSQL server, how long a claim takes
// with a million items queued in the account: on a saturated closed loop (mostly queueing
// behind the other requests) and at a steady, realistic rate.
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import pg from 'pg';

/** Items in the queue of the large claim measurement. */
export const QUEUED_ITEMS = 1_000_000;
/** People working at once. */
export const REVIEWERS = 16;
/** Claim + review cycles a second that the REVIEWERS make together in the paced drive. */
export const PACED_CYCLES = 80;
/** Items of the small queue: more than the rounds' cycles, so that it never runs out. */
const SMALL_QUEUE = 30_000;

/** Claim latencies of one kind of drive, in ms, over every round's claims. */
export interface ClaimLatency {
  claims: number;
  claimP50Ms: number;
  claimP99Ms: number;
}

export interface ReviewBench {
  reviewers: number;
  seconds: number;
  rounds: number;
  /** Claim + review cycles per second, each writing one evaluation (median of the rounds). */
  reviewsPerSecond: number;
  /** Plain POSTs of one evaluation per second, by as many clients (median of the rounds). */
  postsPerSecond: number;
  /** reviewsPerSecond / postsPerSecond, the median of the rounds' own ratios. */
  ratio: number;
  /** The server's CPU time per cycle and per POST, µs (every thread; medians of the rounds). */
  cycleCpuUs: number;
  postCpuUs: number;
  /**
   * The same drives against the bare baseline in the same rounds (server database only),
   * where a claim and a review are one statement each and a POST one: what two requests
   * cost against one with no framework at all.
   */
  floor?: Pick<
    ReviewBench,
    'reviewsPerSecond' | 'postsPerSecond' | 'ratio' | 'cycleCpuUs' | 'postCpuUs'
  >;
  /**
   * The same drives in the same rounds against the least a claim and a review can be (the
   * baseline's /least routes, bench/floor.ts LEAST_TABLES): the reservation on the item's
   * row, no count of places, no check of the run, every statement prepared, and a POST
   * prepared as well. What no design of these two requests gets past on this machine.
   */
  least?: ReviewBench['floor'];
  claimP50Ms: number;
  claimP99Ms: number;
  reviewP99Ms: number;
  /**
   * On the server, with QUEUED_ITEMS items queued: claims of the saturated closed loop (as
   * above: each person claims again as soon as a review is answered), and claims at
   * PACED_CYCLES cycles a second, which is what a claim costs when it does not queue.
   */
  large?: { items: number; saturated: ClaimLatency; paced: ClaimLatency & { perSecond: number } };
}

/** What the bench hands over. */
export interface ReviewBenchDeps {
  url: string;
  secret: string;
  labelId: string;
  seconds: number;
  rounds: number;
  /** The server's CPU time so far, µs. */
  serverCpuUs: () => number;
  /** On the server database: the large queue too, unless `small` (a smoke run). */
  databaseUrl?: string;
  small?: boolean;
  /** The bare baseline, driven alike in the same rounds. */
  floor?: {
    url: string;
    serverCpuUs: () => number;
    /** Stops it once its drives are over: the large queue's claims are Assay's alone. */
    stop: () => Promise<void>;
  };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const median = (xs: number[]) => quantile(xs, 0.5);

const latencyOf = (claims: number[]): ClaimLatency => ({
  claims: claims.length,
  claimP50Ms: quantile(claims, 0.5),
  claimP99Ms: quantile(claims, 0.99),
});

function headersOf(secret: string, sub: string): Record<string, string> {
  const token = jwt.sign({ sub, account_id: 'bench' }, secret, { expiresIn: '2h' });
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
}

async function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  // No Content-Type without a body: an empty JSON body is refused.
  const { 'content-type': type, ...bare } = headers;
  const res = await fetch(url, {
    method,
    headers: body === undefined ? bare : { ...bare, 'content-type': type },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300 && res.status !== 304) {
    throw new Error(`${method} ${url}: ${res.status} ${text}`);
  }
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A queue of `items` outputs of one run, wanting one review each of `labelId`. */
async function queueOf(url: string, headers: Record<string, string>, labelId: string, items = 0) {
  const run = await send(`${url}/v1/runs`, 'POST', headers, { name: 'reviewed' });
  const queue = await send(`${url}/v1/review-queues`, 'POST', headers, {
    name: `bench ${randomUUID()}`,
    label_ids: [labelId],
  });
  for (let start = 0; start < items; start += 1000) {
    await send(`${url}/v1/review-queue/${String(queue.json.id)}/items`, 'POST', headers, {
      items: Array.from({ length: Math.min(1000, items - start) }, (_, i) => ({
        run_id: run.json.id,
        output_name: `output ${start + i}`,
      })),
    });
  }
  return { queueId: String(queue.json.id), runId: String(run.json.id) };
}

/**
 * REVIEWERS people claiming and reviewing for `seconds`: every latency, and the cycles. Each
 * claims again as soon as its review is answered; or, `perSecond` given, the people start
 * that many cycles a second together, evenly spread (a cycle whose time has come while the
 * person's last one still runs starts when it ends).
 */
async function reviewFor(
  url: string,
  secret: string,
  queueId: string,
  labelId: string,
  seconds: number,
  perSecond?: number,
): Promise<{ cycles: number; claims: number[]; reviews: number[] }> {
  const claims: number[] = [];
  const reviews: number[] = [];
  const start = Date.now();
  const end = start + seconds * 1000;
  const every = perSecond ? (REVIEWERS * 1000) / perSecond : 0;
  let cycles = 0;
  await Promise.all(
    Array.from({ length: REVIEWERS }, async (_, r) => {
      const headers = headersOf(secret, `reviewer ${r} ${randomUUID()}`);
      // When this person's next cycle is due: at once on the closed loop.
      let next = start + (r * every) / REVIEWERS;
      while (Date.now() < end && next < end) {
        if (next > Date.now()) await new Promise((done) => setTimeout(done, next - Date.now()));
        next += every;
        let t = performance.now();
        const claimed = await send(`${url}/v1/review-queue/${queueId}/claim`, 'POST', headers);
        claims.push(performance.now() - t);
        if (claimed.status === 204) throw new Error('the bench queue ran out of items');
        const itemId = String((claimed.json.item as { id: string }).id);
        t = performance.now();
        await send(`${url}/v1/review-queue/${queueId}/item/${itemId}/reviews`, 'POST', headers, {
          evaluations: [{ evaluation_label_id: labelId, value: 3 }],
        });
        reviews.push(performance.now() - t);
        cycles++;
      }
    }),
  );
  return { cycles, claims, reviews };
}

/** REVIEWERS clients posting one evaluation each time, for `seconds`: how many. */
async function postFor(
  url: string,
  secret: string,
  runId: string,
  labelId: string,
  seconds: number,
) {
  const end = Date.now() + seconds * 1000;
  let posts = 0;
  await Promise.all(
    Array.from({ length: REVIEWERS }, async (_, r) => {
      const headers = headersOf(secret, `poster ${r}`);
      while (Date.now() < end) {
        await send(`${url}/v1/run/${runId}/evaluations`, 'POST', headers, {
          evaluation_label_id: labelId,
          value: 3,
        });
        posts++;
      }
    }),
  );
  return posts;
}

/** Puts QUEUED_ITEMS items straight into a new queue's table, as a large account has them. */
async function fill(databaseUrl: string, queueId: string, runId: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO review_queue_items (account_id, id, queue_id, run_id, output_name, field_path,
         target, reviews, completed_at, created_at)
       SELECT 'bench', gen_random_uuid(), $1, $2, 'filler ' || n, NULL,
              json_build_array($3::text, 'filler ' || n, NULL)::text, 0, NULL,
              now() - interval '1 day' + n * interval '1 millisecond'
         FROM generate_series(1, ${QUEUED_ITEMS}) n`,
      [queueId, runId, runId],
    );
    // Vacuumed as well: a large account's items came over months, and autovacuum has long
    // been through them; a million rows just inserted would otherwise be vacuumed during
    // the drive, beside the claims it measures.
    await client.query('VACUUM (ANALYZE) review_queue_items');
    // And written out: the gigabyte of WAL they made would otherwise set off checkpoints
    // during the drives, whose writes stall the claims they time.
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/** A queue made through Assay whose SMALL_QUEUE items are in the least design's table. */
async function leastQueueOf(
  databaseUrl: string,
  url: string,
  headers: Record<string, string>,
  labelId: string,
) {
  const queue = await queueOf(url, headers, labelId);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO least_review_items (account_id, id, queue_id, run_id, output_name, created_at)
       SELECT 'bench', gen_random_uuid(), $1, $2, 'output ' || n,
              now() - interval '1 day' + n * interval '1 millisecond'
         FROM generate_series(1, ${SMALL_QUEUE}) n`,
      [queue.queueId, queue.runId],
    );
  } finally {
    await client.end();
  }
  return queue;
}

/** `drive`'s figures and the server's CPU time per unit of work it did. */
async function withCpu<T>(
  serverCpuUs: () => number,
  drive: () => Promise<T>,
  units: (r: T) => number,
) {
  const before = serverCpuUs();
  const result = await drive();
  return { result, cpuUs: (serverCpuUs() - before) / units(result) };
}

type Cycles = Awaited<ReturnType<typeof reviewFor>>;
/** One round of one server: its claim + review cycles, then its POSTs. */
interface Round {
  reviewed: { result: Cycles; cpuUs: number };
  posted: { result: number; cpuUs: number };
}

/**
 * Vacuums what reviews and POSTs write, before each drive, as bench.ts does for its own
 * workloads: where autovacuum is off, the reservations that every claim makes and every
 * review deletes would pile up as dead rows that each later claim scans.
 */
async function vacuum(databaseUrl: string | undefined, least = false): Promise<void> {
  if (!databaseUrl) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `VACUUM (ANALYZE) review_reservations, review_queue_items, reviews, review_queues,
         run_evaluations, evaluation_changes, outbox_writes, runs, evaluation_labels
         ${least ? ', least_review_items, least_reviews' : ''}`,
    );
  } finally {
    await client.end();
  }
}

/** A round of `url`'s: cycles on the queue, then POSTs on its run, each on a vacuumed database. */
async function roundOf(
  url: string,
  serverCpuUs: () => number,
  d: ReviewBenchDeps,
  queue: { queueId: string; runId: string },
  least = false,
): Promise<Round> {
  const { secret, labelId, seconds } = d;
  await vacuum(d.databaseUrl, least);
  const reviewed = await withCpu(
    serverCpuUs,
    () => reviewFor(url, secret, queue.queueId, labelId, seconds),
    (r) => r.cycles,
  );
  await vacuum(d.databaseUrl, least);
  const posted = await withCpu(
    serverCpuUs,
    () => postFor(url, secret, queue.runId, labelId, seconds),
    (n) => n,
  );
  return { reviewed, posted };
}

/** What the rounds of one server say: the medians, and the median of their ratios. */
const summary = (rounds: Round[], seconds: number) => ({
  reviewsPerSecond: Math.round(median(rounds.map((r) => r.reviewed.result.cycles)) / seconds),
  postsPerSecond: Math.round(median(rounds.map((r) => r.posted.result)) / seconds),
  ratio: median(rounds.map((r) => r.reviewed.result.cycles / r.posted.result)),
  cycleCpuUs: median(rounds.map((r) => r.reviewed.cpuUs)),
  postCpuUs: median(rounds.map((r) => r.posted.cpuUs)),
});

export async function benchReviews(d: ReviewBenchDeps): Promise<ReviewBench> {
  const { url, secret, labelId, seconds } = d;
  const admin = headersOf(secret, 'bench');
  const small = await queueOf(url, admin, labelId, SMALL_QUEUE);
  await reviewFor(url, secret, small.queueId, labelId, 1); // warm-up
  await postFor(url, secret, small.runId, labelId, 1);
  const floor = d.floor && { ...d.floor, queue: await queueOf(url, admin, labelId, SMALL_QUEUE) };
  const least = floor &&
    d.databaseUrl && {
      url: `${floor.url}/least`,
      queue: await leastQueueOf(d.databaseUrl, url, admin, labelId),
    };
  for (const server of [floor, least]) {
    if (!server) continue;
    await reviewFor(server.url, secret, server.queue.queueId, labelId, 1);
    await postFor(server.url, secret, server.queue.runId, labelId, 1);
  }
  // Rounds of each, one after the other: a slow moment of the machine weighs on one round.
  // The servers take turns at going first.
  const rounds: Round[] = [];
  const floorRounds: Round[] = [];
  const leastRounds: Round[] = [];
  for (let i = 0; i < d.rounds; i++) {
    const turns = [async () => rounds.push(await roundOf(url, d.serverCpuUs, d, small))];
    if (floor) {
      turns.push(async () =>
        floorRounds.push(await roundOf(floor.url, floor.serverCpuUs, d, floor.queue)),
      );
    }
    if (floor && least) {
      turns.push(async () =>
        leastRounds.push(await roundOf(least.url, floor.serverCpuUs, d, least.queue, true)),
      );
    }
    for (let t = 0; t < turns.length; t++) await turns[(i + t) % turns.length]();
  }
  const all = (pick: (r: Cycles) => number[]) => rounds.flatMap((r) => pick(r.reviewed.result));
  const report: ReviewBench = {
    reviewers: REVIEWERS,
    seconds,
    rounds: d.rounds,
    ...summary(rounds, seconds),
    floor: floor && summary(floorRounds, seconds),
    least: least ? summary(leastRounds, seconds) : undefined,
    claimP50Ms: quantile(
      all((r) => r.claims),
      0.5,
    ),
    claimP99Ms: quantile(
      all((r) => r.claims),
      0.99,
    ),
    reviewP99Ms: quantile(
      all((r) => r.reviews),
      0.99,
    ),
  };
  await floor?.stop();
  if (d.databaseUrl && !d.small) {
    const large = await queueOf(url, admin, labelId);
    await fill(d.databaseUrl, large.queueId, large.runId);
    const [saturated, paced]: number[][] = [[], []];
    for (let i = 0; i < d.rounds; i++) {
      await vacuum(d.databaseUrl);
      saturated.push(...(await reviewFor(url, secret, large.queueId, labelId, seconds)).claims);
      await vacuum(d.databaseUrl);
      paced.push(
        ...(await reviewFor(url, secret, large.queueId, labelId, seconds, PACED_CYCLES)).claims,
      );
    }
    report.large = {
      items: QUEUED_ITEMS,
      saturated: latencyOf(saturated),
      paced: { perSecond: PACED_CYCLES, ...latencyOf(paced) },
    };
  }
  return report;
}

const ms = (x: number) => x.toFixed(1);

const latency = (l: ClaimLatency) =>
  `${l.claims} claims, p50 ${ms(l.claimP50Ms)} ms, p99 ${ms(l.claimP99Ms)} ms`;

export function printReviewBench(r: ReviewBench): void {
  console.log(
    `\nReviews (${r.reviewers} people, ${r.seconds} s, median of ${r.rounds} round(s)): ` +
      `claim + review ${r.reviewsPerSecond}/s against one POST of the same evaluation ` +
      `${r.postsPerSecond}/s (ratio ${r.ratio.toFixed(2)}); server CPU ` +
      `${r.cycleCpuUs.toFixed(0)} µs a cycle, ${r.postCpuUs.toFixed(0)} µs a POST; ` +
      `claim p50 ${ms(r.claimP50Ms)} ms, p99 ${ms(r.claimP99Ms)} ms; review p99 ` +
      `${ms(r.reviewP99Ms)} ms (saturated: each person claims again at once)`,
  );
  if (r.floor) {
    const f = r.floor;
    console.log(
      `The bare baseline in the same rounds (a claim, a review and a POST one statement each): ` +
        `claim + review ${f.reviewsPerSecond}/s against POST ${f.postsPerSecond}/s ` +
        `(ratio ${f.ratio.toFixed(2)}); CPU ${f.cycleCpuUs.toFixed(0)} µs a cycle, ` +
        `${f.postCpuUs.toFixed(0)} µs a POST`,
    );
  }
  if (r.least) {
    const f = r.least;
    console.log(
      `The least a claim and a review can be, in the same rounds (the baseline's /least: the ` +
        `reservation on the item's row, every statement prepared, the POST too): claim + ` +
        `review ${f.reviewsPerSecond}/s against POST ${f.postsPerSecond}/s (ratio ` +
        `${f.ratio.toFixed(2)}); CPU ${f.cycleCpuUs.toFixed(0)} µs a cycle, ` +
        `${f.postCpuUs.toFixed(0)} µs a POST`,
    );
  }
  if (r.large) {
    const { items, saturated, paced } = r.large;
    console.log(
      `Claims with ${items.toLocaleString('en')} items queued, saturated as above: ` +
        `${latency(saturated)}\n` +
        `Claims with ${items.toLocaleString('en')} items queued, paced at ${paced.perSecond} ` +
        `cycles/s (no queueing): ${latency(paced)}`,
    );
  }
}
