/// <reference lib="dom" />
// The dashboard in Chromium (Debian's, as the specs use it) against a seeded Assay: what its
// first load transfers, how long after navigation the overview and a label's view show every
// number, and how soon an evaluation POSTed through the API appears on an open page.
import { chromium, type Page } from 'playwright-core';

const REPEATS = 5;
const TARGETS = {
  firstLoadKb: 300,
  overviewMs: { server: 1500, embedded: 3000 },
  labelMs: 1000,
  liveMs: 2000,
};

export interface DashboardBenchRow {
  database: string;
  /** The dashboard's own files (page, script, styles, icon) as sent, gzipped, in KB. */
  firstLoadKb: number;
  /** Everything the first visit of the overview fetched, API answers included, in KB. */
  firstVisitKb: number;
  /** Median and max over REPEATS, in ms from navigation start (after one warm-up). */
  overviewMs: [number, number];
  labelMs: [number, number];
  /** From the POST's start to the new count on the page. */
  liveMs: [number, number];
}

const medianAndMax = (xs: number[]): [number, number] => [
  Math.round([...xs].sort((a, b) => a - b)[xs.length >> 1]),
  Math.round(Math.max(...xs)),
];

/** Milliseconds from the navigation's start until `ready(arg)` holds in the page. */
async function timeView(
  page: Page,
  url: string,
  ready: (arg: number) => boolean,
  arg = 0,
): Promise<number> {
  await page.goto(url);
  await page.waitForFunction(ready, arg, { timeout: 60_000, polling: 'raf' });
  return page.evaluate(() => performance.now());
}

export async function benchDashboard(
  database: string,
  baseUrl: string,
  token: string,
  labelId: string,
  labels: number,
): Promise<DashboardBenchRow> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript((t) => sessionStorage.setItem('assay.token', t), token);
    const page = await context.newPage();
    let own = 0;
    let all = 0;
    page.on('requestfinished', (r) => {
      void r.sizes().then((s) => {
        const bytes = s.responseBodySize + s.responseHeadersSize;
        all += bytes;
        if (new URL(r.url()).pathname.startsWith('/dashboard')) own += bytes;
      });
    });
    const overviewReady = (count: number) =>
      document.querySelectorAll('article.card .figures data[data-field="n"]').length === count &&
      !document.querySelector('[aria-busy="true"]');
    const labelReady = () =>
      Boolean(document.querySelector('[data-headline]')) &&
      Boolean(document.querySelector('table[data-table="trend"]')) &&
      !document.querySelector('[aria-busy="true"]');

    const overviewUrl = `${baseUrl}/dashboard/`;
    const labelUrl = `${baseUrl}/dashboard/label/${labelId}`;
    await timeView(page, overviewUrl, overviewReady, labels);
    await page.waitForTimeout(500);
    const [firstLoadKb, firstVisitKb] = [own / 1024, all / 1024];

    const overview: number[] = [];
    const label: number[] = [];
    await timeView(page, labelUrl, labelReady);
    for (let i = 0; i < REPEATS; i++) {
      overview.push(await timeView(page, overviewUrl, overviewReady, labels));
      label.push(await timeView(page, labelUrl, labelReady));
    }

    const live: number[] = [];
    const runRes = await fetch(`${baseUrl}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const run = (await runRes.json()) as { id: string };
    await page.locator('[data-live="live"]').waitFor();
    for (let i = 0; i < REPEATS; i++) {
      const n = Number(
        await page.locator('[data-headline] data[data-field="n"]').getAttribute('value'),
      );
      const started = performance.now();
      await fetch(`${baseUrl}/v1/run/${run.id}/evaluations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ evaluation_label_id: labelId, value: 2.5 }),
      });
      await page.waitForFunction(
        (expected) =>
          document.querySelector('[data-headline] data[data-field="n"]')?.getAttribute('value') ===
          expected,
        String(n + 1),
        { timeout: 60_000, polling: 'raf' },
      );
      live.push(performance.now() - started);
      await page.waitForTimeout(500);
    }
    return {
      database,
      firstLoadKb: Math.round(firstLoadKb * 10) / 10,
      firstVisitKb: Math.round(firstVisitKb * 10) / 10,
      overviewMs: medianAndMax(overview),
      labelMs: medianAndMax(label),
      liveMs: medianAndMax(live),
    };
  } finally {
    await browser.close();
  }
}

export function printDashboardBench(rows: DashboardBenchRow[]): void {
  console.log(
    `\nThe dashboard in Chromium (targets: first load ${TARGETS.firstLoadKb} KB; every number ` +
      `of the overview ${TARGETS.overviewMs.server} ms on the server, ${TARGETS.overviewMs.embedded} ms ` +
      `embedded; a label's view ${TARGETS.labelMs} ms; a new evaluation shown ${TARGETS.liveMs} ms):`,
  );
  console.table(
    rows.map((r) => ({
      database: r.database,
      'first load KB (gzip)': r.firstLoadKb,
      'first visit KB': r.firstVisitKb,
      'overview ms, median / max': r.overviewMs.join(' / '),
      'label view ms': r.labelMs.join(' / '),
      'new evaluation shown ms': r.liveMs.join(' / '),
    })),
  );
}
