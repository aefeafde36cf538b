import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { bearer, DATABASES, startApp, type TestApp, token } from './support/app.js';
import { useChromium } from './support/browser.js';
import { createLabel, createRun } from './support/factories.js';

const SCREENSHOT_DIR = 'test-output';

describe('Swagger UI, driven by a person in a browser', () => {
  let t: TestApp;
  let baseUrl: string;
  const browser = useChromium();

  beforeAll(async () => {
    t = await startApp(DATABASES[0]);
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => t?.close());

  /** Opens the docs and authorizes as a person does: the Authorize dialog, a token, Done. */
  async function authorize(page: Page): Promise<void> {
    await page.goto(`${baseUrl}/docs`);
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const dialog = page.locator('.modal-ux');
    await dialog.locator('input').first().fill(token());
    await dialog.locator('button.modal-btn.authorize').click();
    await dialog.locator('button.btn-done').click();
  }

  it('Authorize, then "Try it out" on POST /v1/run/{id}/evaluations creates an evaluation', async () => {
    const label = await createLabel(t.http, { name: 'from the browser' });
    const run = await createRun(t.http);
    const page = await browser().newPage({ viewport: { width: 1280, height: 1400 } });

    await authorize(page);

    const operation = page.locator('.opblock-post').filter({ hasText: '/v1/run/{id}/evaluations' });
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.locator('input[placeholder="id"]').fill(run.id);
    await operation
      .locator('textarea.body-param__text')
      .fill(JSON.stringify({ evaluation_label_id: label.id, value: 4 }));
    await operation.getByRole('button', { name: 'Execute' }).click();

    const status = operation
      .locator('.live-responses-table .response .response-col_status')
      .first();
    await expect(status.textContent({ timeout: 60_000 })).resolves.toContain('201');
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await operation.locator('.live-responses-table').scrollIntoViewIfNeeded();
    await page.screenshot({
      path: `${SCREENSHOT_DIR}/swagger-ui-create-evaluation.png`,
      fullPage: false,
    });

    const list = await t.http.get(`/v1/run/${run.id}/evaluations`).set(bearer());
    expect(list.body).toEqual([
      expect.objectContaining({ evaluation_label_id: label.id, value: 4, created_by: 'alice' }),
    ]);
  });

  it('"Try it out" on GET /v1/events gets the JSON page of events, and finishes', async () => {
    await createRun(t.http, { name: 'seen from the browser' });
    const page = await browser().newPage({ viewport: { width: 1280, height: 1400 } });
    await authorize(page);
    const operation = page.locator('.opblock-get').filter({ hasText: '/v1/events' }).first();
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/events', {
      timeout: 15_000,
    });
    await operation.getByRole('button', { name: 'Execute' }).click();
    const response = await answered;
    // What Swagger UI sends, whichever media type the document lists first.
    expect(response.request().headers().accept).toBe('*/*');
    expect(response.headers()['content-type']).toBe('application/json; charset=utf-8');
    // The whole body arrived: a stream would never end.
    const events = (await response.json()) as { type: string }[];
    expect(events.map((e) => e.type)).toContain('run.created');
    const status = operation.locator('.live-responses-table .response .response-col_status');
    await expect(status.first().textContent({ timeout: 15_000 })).resolves.toContain('200');
    await expect(
      operation.locator('.live-responses-table').first().textContent(),
    ).resolves.toContain('run.created');
  });
});
