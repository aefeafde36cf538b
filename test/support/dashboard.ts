/// <reference lib="dom" />
// Functions passed to page.evaluate run in the browser, with its globals.
import { mkdirSync } from 'node:fs';
import { expect } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';

export const SCREENSHOTS = 'test-output/dashboard';

/** What a page did that a person would call broken: console errors, failed requests, script run. */
export interface Watched {
  page: Page;
  problems: string[];
  urls: string[];
  /** HTTP error statuses the spec provokes on purpose (a wrong token, a deleted label). */
  expected: Set<number>;
}

/**
 * A page of the dashboard signed in with `bearerToken`, recording every console error, page
 * error and failed request, and every URL it asked for. `viaForm` signs in as a person does,
 * through the sign-in form on the overview; otherwise the token is in the tab's session
 * storage already, as after signing in, and the page is blank until the spec visits a view.
 */
export async function openDashboard(
  browser: Browser,
  baseUrl: string,
  bearerToken: string,
  viewport = { width: 1280, height: 800 },
  expected: number[] = [],
  viaForm = false,
): Promise<Watched> {
  // A context of its own, as a person's own browser profile (and as axe-core needs).
  const context = await browser.newContext({ viewport });
  if (!viaForm)
    await context.addInitScript((t) => sessionStorage.setItem('assay.token', t), bearerToken);
  const page = await context.newPage();
  const watched: Watched = { page, problems: [], urls: [], expected: new Set(expected) };
  page.on('console', (m) => {
    // Chromium reports every HTTP error status on the console too; those are checked below.
    if (m.type() === 'error' && m.text().startsWith('Failed to load resource')) return;
    if (m.type() === 'error' || m.type() === 'warning')
      watched.problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => watched.problems.push(`page error: ${e.message}`));
  // Leaving a page cancels what it was still asking for (its event stream, a reload that a
  // live change began): the browser reports those as aborted, and they are no failure.
  let navigations = 0;
  const startedIn = new WeakMap<object, number>();
  page.on('request', (r) => {
    watched.urls.push(r.url());
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) navigations++;
    else startedIn.set(r, navigations);
  });
  page.on('requestfailed', (r) => {
    // The dashboard also closes its event stream itself, when it signs out.
    const left = (startedIn.get(r) ?? navigations) < navigations || r.url().endsWith('/v1/events');
    if (left && r.failure()?.errorText === 'net::ERR_ABORTED') return;
    watched.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !watched.expected.has(r.status()))
      watched.problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  if (!viaForm) return watched;
  await page.goto(`${baseUrl}/dashboard/`);
  await page.getByLabel('Bearer token').fill(bearerToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Signed in: the live feed connects, or (a refused token) the sign-in form says why.
  await page.locator('[data-live="live"], .sign-in [role="alert"]').first().waitFor();
  return watched;
}

/** Nothing went wrong on the page, and no stored string ran as code. */
export async function expectClean(w: Watched): Promise<void> {
  const pwned = await w.page.evaluate(() => (window as { __pwned?: unknown }).__pwned);
  expect(pwned).toBeUndefined();
  expect(w.problems).toEqual([]);
}

/** Opens a dashboard address and waits until the view has its data. */
export async function visit(
  w: Watched,
  baseUrl: string,
  path: string,
  ready = 'section [aria-busy="false"]',
) {
  await w.page.goto(`${baseUrl}/dashboard/${path}`);
  await w.page.locator(ready).first().waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

/** A table of figures as the page holds it: per row, each figure's exact value. */
export type ReadTable = { row: string; cells: Record<string, string> }[];

export function readTable(page: Page, name: string): Promise<ReadTable> {
  return page.evaluate((table) => {
    const rows = document.querySelectorAll(`table[data-table="${table}"] tbody tr`);
    return [...rows].map((tr) => ({
      row: (tr as HTMLElement).dataset.row ?? '',
      cells: Object.fromEntries(
        [...tr.querySelectorAll('data[data-field]')].map((d) => [
          (d as HTMLElement).dataset.field!,
          (d as HTMLDataElement).value,
        ]),
      ),
    }));
  }, name);
}

/** A figure as the page stores it: the API's number, an interval as JSON, or empty for null. */
/** A value as `asShown` wrote it, read back: a number, an array of numbers, or null. */
export const fromShown = (shown: string): unknown => (shown === '' ? null : JSON.parse(shown));

export const asShown = (v: unknown): string =>
  v === null || v === undefined
    ? ''
    : typeof v === 'number' || typeof v === 'string'
      ? String(v)
      : JSON.stringify(v);
