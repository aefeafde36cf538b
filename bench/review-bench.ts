// The review-queue half of `npm run bench -- --reviews`: what a review costs against a plain
// POST of the same evaluation (people each claiming an item and reviewing it, against the
// same number of clients posting), and, on the PostgreSQL server, how long a claim takes
// with a million items queued in the account.
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import pg from 'pg';

/** Items in the queue of the large claim measurement. */
export const QUEUED_ITEMS = 1_000_000;
/** People working at once. */
const REVIEWERS = 16;

export interface ReviewBench {
  reviewers: number;
  seconds: number;
  /** Claim + review cycles per second, each writing one evaluation. */
  reviewsPerSecond: number;
  /** Plain POSTs of one evaluation per second, by as many clients. */
  postsPerSecond: number;
  /** reviewsPerSecond / postsPerSecond. */
  ratio: number;
  claimP50Ms: number;
  claimP99Ms: number;
  reviewP99Ms: number;
  /** On the server: claims with QUEUED_ITEMS items queued (each claim then reviewed). */
  large?: { items: number; claims: number; claimP50Ms: number; claimP99Ms: number };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

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

/** REVIEWERS people claiming and reviewing for `seconds`: every latency, and the cycles. */
async function reviewFor(
  url: string,
  secret: string,
  queueId: string,
  labelId: string,
  seconds: number,
): Promise<{ cycles: number; claims: number[]; reviews: number[] }> {
  const claims: number[] = [];
  const reviews: number[] = [];
  const end = Date.now() + seconds * 1000;
  let cycles = 0;
  await Promise.all(
    Array.from({ length: REVIEWERS }, async (_, r) => {
      const headers = headersOf(secret, `reviewer ${r} ${randomUUID()}`);
      while (Date.now() < end) {
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
    await client.query('ANALYZE review_queue_items');
  } finally {
    await client.end();
  }
}

export async function benchReviews(
  url: string,
  secret: string,
  labelId: string,
  seconds: number,
  databaseUrl?: string,
): Promise<ReviewBench> {
  const admin = headersOf(secret, 'bench');
  // Enough items that the reviewers never run out.
  const small = await queueOf(url, admin, labelId, 20_000);
  await reviewFor(url, secret, small.queueId, labelId, 1); // warm-up
  const reviewed = await reviewFor(url, secret, small.queueId, labelId, seconds);
  await postFor(url, secret, small.runId, labelId, 1); // warm-up
  const posts = await postFor(url, secret, small.runId, labelId, seconds);
  const report: ReviewBench = {
    reviewers: REVIEWERS,
    seconds,
    reviewsPerSecond: Math.round(reviewed.cycles / seconds),
    postsPerSecond: Math.round(posts / seconds),
    ratio: reviewed.cycles / posts,
    claimP50Ms: quantile(reviewed.claims, 0.5),
    claimP99Ms: quantile(reviewed.claims, 0.99),
    reviewP99Ms: quantile(reviewed.reviews, 0.99),
  };
  if (databaseUrl) {
    const large = await queueOf(url, admin, labelId);
    await fill(databaseUrl, large.queueId, large.runId);
    const claimed = await reviewFor(url, secret, large.queueId, labelId, seconds);
    report.large = {
      items: QUEUED_ITEMS,
      claims: claimed.claims.length,
      claimP50Ms: quantile(claimed.claims, 0.5),
      claimP99Ms: quantile(claimed.claims, 0.99),
    };
  }
  return report;
}

const ms = (x: number) => x.toFixed(1);

export function printReviewBench(r: ReviewBench): void {
  console.log(
    `\nReviews (${r.reviewers} people, ${r.seconds} s): claim + review ${r.reviewsPerSecond}/s ` +
      `against one POST of the same evaluation ${r.postsPerSecond}/s (ratio ` +
      `${r.ratio.toFixed(2)}); claim p50 ${ms(r.claimP50Ms)} ms, p99 ${ms(r.claimP99Ms)} ms; ` +
      `review p99 ${ms(r.reviewP99Ms)} ms`,
  );
  if (r.large) {
    console.log(
      `Claims with ${r.large.items.toLocaleString('en')} items queued: ${r.large.claims} claims, ` +
        `p50 ${ms(r.large.claimP50Ms)} ms, p99 ${ms(r.large.claimP99Ms)} ms`,
    );
  }
}
