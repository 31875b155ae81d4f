import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, apiHarness } from '../helpers/api.js';
import { ARTIFACTS, launchBrowser } from '../helpers/browser.js';
import { ROOT } from '../helpers/processes.js';

/** The dashboard in Debian's Chromium against a real API, coordinator and agents. */
describe('dashboard in a real browser', () => {
  let t: ApiHarness;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    t = await apiHarness({ commandsDir: path.join(ROOT, '.hive/commands') });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows a submitted workflow appear, progress and complete', async () => {
    await page.goto(`${t.url}/#/workflows`);
    await page.getByRole('heading', { name: 'Workflows' }).waitFor();
    const res = await fetch(`${t.url}/api/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'browser-1' },
      body: JSON.stringify({
        name: 'browser run',
        tasks: [{ type: 'api_creation' }, { type: 'slow', input: { ms: 1500 } }],
      }),
    });
    const { id } = (await res.json()) as { id: string };
    const row = page.locator(`tr[data-workflow="${id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('running');
    await page.screenshot({ path: path.join(ARTIFACTS, 'workflows-running.png') });
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 15_000 }).toBe('completed');
    await row.getByRole('link', { name: 'browser run' }).click();
    await expect
      .poll(() => page.getByTestId('workflow-status').textContent(), { timeout: 10_000 })
      .toBe('completed');
    expect(await page.locator('tr[data-task]').count()).toBe(2);
    expect(await page.locator('svg.graph rect').count()).toBe(2);
    await page.screenshot({ path: path.join(ARTIFACTS, 'workflow-completed.png'), fullPage: true });
  });

  it('runs a command from the page and follows the workflow it starts', async () => {
    await page.goto(`${t.url}/#/commands`);
    const input = page.getByLabel('Arguments for /feature');
    await input.fill('"browser cart"');
    await page.locator('button[data-command="/feature"]').click();
    await page.waitForURL(/#\/workflows\/.+/, { timeout: 10_000 });
    await expect
      .poll(() => page.getByTestId('workflow-status').textContent(), { timeout: 15_000 })
      .toBe('completed');
    await page.screenshot({ path: path.join(ARTIFACTS, 'command-run.png'), fullPage: true });
  });

  it('opens a correlation and shows its timeline', async () => {
    await page.goto(`${t.url}/#/correlation`);
    await page.getByLabel('Correlation ID').fill('browser-1');
    await page.getByRole('button', { name: 'Show' }).click();
    const items = page.getByTestId('correlation-items');
    await expect
      .poll(async () => (await items.textContent()) ?? '', { timeout: 10_000 })
      .toContain('workflow.submitted');
    const text = (await items.textContent()) ?? '';
    expect(text).toContain('task.completed');
    expect(text).toContain('log');
    expect(await page.locator('.gantt-row').count()).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: path.join(ARTIFACTS, 'correlation.png'), fullPage: true });
  });

  it('streams live events into the overview feed, stamped for latency measurement', async () => {
    await page.goto(`${t.url}/#/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await fetch(`${t.url}/api/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tasks: [{ type: 'api_creation' }] }),
    });
    const item = page.locator('ol.feed li[data-seq]').first();
    await item.waitFor({ timeout: 10_000 });
    expect(Number(await item.getAttribute('data-created'))).toBeGreaterThan(Date.now() - 60_000);
    await expect.poll(() => page.locator('.live.on').count(), { timeout: 5_000 }).toBe(1);
  });
});
