// The webhook scenario of `npm run bench -- --webhooks`: events at a steady 1,000 a second
// to a receiver in this process, and how long each took from its commit to the receiver's
// 2xx; POST throughput with one webhook registered against none; and both again while a
// second endpoint is down (its connections refused).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

export interface WebhookLag {
  /** Events written per second, as asked and as got. */
  asked: number;
  written: number;
  /** Writes (batches of 10) that failed: the server could not take the rate. */
  failedWrites: number;
  /** Events written, and delivered to the live receiver. */
  events: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
}

export interface WebhookBench {
  /** 1,000 events a second to one live receiver. */
  lag: WebhookLag;
  /** The same, with a second webhook whose receiver is down. */
  lagBesideDown: WebhookLag;
  /**
   * POST evaluation drives without webhooks, with one, with two (both up), and with one
   * beside one down: against two up, what a receiver being down costs the writes.
   */
  throughput: { none: PostDrive[]; one: PostDrive[]; two: PostDrive[]; oneBesideDown: PostDrive[] };
}

/** One drive of POST evaluation: how many, and the CPU each cost Assay and PostgreSQL. */
export interface PostDrive {
  requestsPerSecond: number;
  assayCpuUs: number;
  postgresCpuUs: number;
}

/** What the bench hands over: its drivers, so that this scenario drives as the rest does. */
export interface WebhookBenchDeps {
  url: string;
  databaseUrl: string;
  headers: Record<string, string>;
  seconds: number;
  rounds: number;
  /** POSTs `body` `perSecond` times a second for `seconds`; answers what failed. */
  paced: (url: string, body: string, perSecond: number, seconds: number) => Promise<string[]>;
  /** POST evaluation with autocannon, as the bench's workloads. */
  postThroughput: () => Promise<PostDrive>;
  /** A batch body of `n` evaluations. */
  batchBody: (n: number) => string;
}

const BATCH = 10;

/** A receiver answering 204 at once, noting when each webhook-id arrived (ms since 1970). */
async function receiver(): Promise<{ server: Server; url: string; seen: Map<string, number> }> {
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      if (!seen.has(id)) seen.set(id, Date.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, seen };
}

/** A port where nothing listens: connections to it are refused. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}/hook`;
}

export async function benchWebhooks(d: WebhookBenchDeps): Promise<WebhookBench> {
  const db = new pg.Client({ connectionString: d.databaseUrl });
  await db.connect();
  const live = await receiver();
  const dead = await deadUrl();
  const api = async (method: string, path: string, body?: unknown) => {
    const { authorization } = d.headers;
    const res = await fetch(`${d.url}${path}`, {
      method,
      // A DELETE sends no body, so no Content-Type either.
      headers: body === undefined ? { authorization } : d.headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : ((await res.json()) as { id: string });
  };
  const register = (url: string) => api('POST', '/v1/webhooks', { url, event_types: ['*'] });
  const removeAll = async () => {
    const hooks = (await (await fetch(`${d.url}/v1/webhooks`, { headers: d.headers })).json()) as {
      id: string;
    }[];
    for (const h of hooks) await api('DELETE', `/v1/webhook/${h.id}`);
  };

  /** 1,000 events a second for `seconds`; the lag of each to the live receiver. */
  const lagDrive = async (seconds: number): Promise<WebhookLag> => {
    live.seen.clear();
    const [{ from }] = (await db.query<{ from: Date }>('SELECT clock_timestamp() AS from')).rows;
    const asked = 1000;
    const failed = await d.paced(
      `${d.url}/v1/evaluations/batch`,
      d.batchBody(BATCH),
      asked / BATCH,
      seconds,
    );
    // A machine too busy to take the rate shows as failed writes, reported with the lag.
    if (failed.length > 0)
      console.warn(`webhook drive: ${failed.length} writes failed: ${failed[0]}`);
    const { rows } = await db.query<{ id: string; at: Date }>(
      `SELECT e->>'id' AS id, w.occurred_at AS at
         FROM outbox_writes w CROSS JOIN LATERAL json_array_elements(w.events) AS e
        WHERE w.occurred_at >= $1`,
      [from],
    );
    // Every event reaches the receiver (bounded: a stuck delivery ends the bench).
    const deadline = Date.now() + 120_000;
    while (rows.some((r) => !live.seen.has(r.id)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const lags = rows
      .filter((r) => live.seen.has(r.id))
      .map((r) => live.seen.get(r.id)! - r.at.getTime())
      .sort((a, b) => a - b);
    const at = (q: number) => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))];
    return {
      asked,
      failedWrites: failed.length,
      written: Math.round(rows.length / seconds),
      events: rows.length,
      delivered: lags.length,
      p50: at(0.5),
      p99: at(0.99),
      max: lags[lags.length - 1],
    };
  };

  try {
    await removeAll();
    await register(live.url);
    const lag = await lagDrive(d.seconds);
    await register(dead);
    const lagBesideDown = await lagDrive(Math.min(d.seconds, 10));

    const throughput: WebhookBench['throughput'] = {
      none: [],
      one: [],
      two: [],
      oneBesideDown: [],
    };
    for (let round = 0; round < d.rounds; round++) {
      await removeAll();
      throughput.none.push(await d.postThroughput());
      await register(live.url);
      throughput.one.push(await d.postThroughput());
      // The later drives of a round run on a larger database: the two that are compared
      // take turns at going last.
      const two = async () => {
        const second = await register(live.url);
        throughput.two.push(await d.postThroughput());
        await api('DELETE', `/v1/webhook/${second!.id}`);
      };
      const oneBesideDown = async () => {
        const down = await register(dead);
        throughput.oneBesideDown.push(await d.postThroughput());
        await api('DELETE', `/v1/webhook/${down!.id}`);
      };
      for (const drive of round % 2 === 0 ? [two, oneBesideDown] : [oneBesideDown, two]) {
        await drive();
      }
    }
    await removeAll();
    return { lag, lagBesideDown, throughput };
  } finally {
    live.server.closeAllConnections();
    await new Promise((r) => live.server.close(r));
    await db.end();
  }
}

export function printWebhookBench(b: WebhookBench): void {
  const line = (name: string, l: WebhookLag) =>
    console.log(
      `  ${name}: ${l.written} events/s written (${l.asked} asked, ${l.failedWrites} writes ` +
        `failed), ${l.delivered} of ` +
        `${l.events} delivered; commit to 2xx p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms`,
    );
  console.log('\nWebhooks, to a receiver on this machine:');
  line('one endpoint', b.lag);
  line('beside one that is down', b.lagBesideDown);
  // Paired within each round: the drives of a round ran back to back.
  const ratios = (variant: keyof WebhookBench['throughput'], to: typeof variant = 'none') =>
    b.throughput[variant].map(
      (d, i) => d.requestsPerSecond / b.throughput[to][i].requestsPerSecond,
    );
  const med = (xs: number[]) => [...xs].sort((a, c) => a - c)[xs.length >> 1];
  const row = (name: string, drives: PostDrive[], ratio?: string) =>
    console.log(
      `  POST evaluation ${name}: ${med(drives.map((d) => d.requestsPerSecond))} req/s` +
        (ratio ? ` (${ratio})` : '') +
        `; CPU µs/req Assay ${med(drives.map((d) => d.assayCpuUs))}, PostgreSQL ` +
        `${med(drives.map((d) => d.postgresCpuUs))}`,
    );
  row('without webhooks', b.throughput.none);
  const times = (xs: number[], what: string) => `${med(xs).toFixed(2)}× ${what}`;
  row('with one', b.throughput.one, times(ratios('one'), 'without'));
  row('with two up', b.throughput.two, times(ratios('two'), 'without'));
  row(
    'with one up, one down',
    b.throughput.oneBesideDown,
    `${times(ratios('oneBesideDown'), 'without')}, ${times(ratios('oneBesideDown', 'two'), 'two up')}`,
  );
}
