import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { BenchReport, BenchOptions } from '../bench/bench.js';
import { ensureBuilt } from './support/server.js';

// A few hundred requests per workload: the benchmark still runs and nothing fails.
// Its figures mean nothing here; `npm run bench` is where they are measured.
describe('the benchmark, in a smoke run', () => {
  let runBench: (o: BenchOptions) => Promise<BenchReport>;
  beforeAll(async () => {
    // Built only if a source is newer: another suite may be serving from dist/ meanwhile.
    ensureBuilt();
    ({ runBench } = (await import(pathToFileURL('dist/bench/bench.js').href)) as {
      runBench: typeof runBench;
    });
  });

  it('drives every workload against Assay (and, on a server, the baseline, the minimal Nest app, Assay without metrics and without events, a second Assay, the relay to NATS, and claims and reviews) with no failed request', async () => {
    const databaseUrl = process.env.TEST_DATABASE_URL;
    const report = await runBench({
      databaseUrl,
      amount: 200,
      connections: 4,
      baseline: true,
      metricsOff: true,
      eventsOff: true,
      control: true,
      natsUrl: databaseUrl && (process.env.NATS_URL ?? 'nats://127.0.0.1:4222'),
      scale: false,
      reviews: true,
    });
    expect(report.rows.map((r) => r.workload)).toEqual([
      'POST evaluation',
      'POST with Idempotency-Key',
      'POST batch (500, 8 clients)',
      'GET list (100)',
      'GET one',
      'PUT value',
    ]);
    for (const row of report.rows) {
      const rivals = Object.values(row.rivals).map((r) => r.figures);
      expect(rivals).toHaveLength(databaseUrl ? 5 : 0);
      if (databaseUrl) expect(row.stack?.cpuUsPerRequest).toBeGreaterThan(0);
      for (const figures of [row.assay, ...rivals]) {
        expect([row.workload, figures.non2xx, figures.errors]).toEqual([row.workload, 0, 0]);
        expect(figures.requests * (row.evaluations ?? 1)).toBeGreaterThanOrEqual(200);
      }
    }
    expect(report.peakRssMb.assay).toBeGreaterThan(0);
    if (databaseUrl) expect(report.peakRssMb.baseline).toBeGreaterThan(0);
    if (databaseUrl) expect(report.peakRssMb.nest).toBeGreaterThan(0);
    if (databaseUrl) expect(report.peakRssMb.metricsOff).toBeGreaterThan(0);
    if (databaseUrl) expect(report.peakRssMb.eventsOff).toBeGreaterThan(0);
    if (databaseUrl) expect(report.peakRssMb.control).toBeGreaterThan(0);
    if (databaseUrl) {
      // Every event of the steady drive was acknowledged by the broker, each timed.
      const { drives } = report.relay!;
      expect(drives.length).toBeGreaterThan(0);
      for (const drive of drives) {
        expect(drive.events).toBe(drive.evaluations);
        expect(drive.p99).toBeGreaterThan(0);
        expect(drive.max).toBeGreaterThanOrEqual(drive.p99);
      }
    }
    // Claims and reviews on Assay, and on a server on the baseline and the least design too.
    const reviews = report.reviews!;
    const drives = [reviews, ...(databaseUrl ? [reviews.floor!, reviews.least!] : [])];
    for (const r of drives) {
      expect(r.reviewsPerSecond).toBeGreaterThan(0);
      expect(r.postsPerSecond).toBeGreaterThan(0);
    }
    expect(reviews.large).toBeUndefined();
  }, 600_000);
});
