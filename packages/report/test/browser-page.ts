import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromiumContext, requireChromium } from '@cbnn/browser-test';

/**
 * Debian's real chromium (headless, no network features) for the pages this package writes (the
 * report, the experiments page): open a file, wait until every chart has rendered or failed, and
 * collect console errors, failed and remote requests.
 */
export const ARTIFACTS = path.join(__dirname, '..', 'test-artifacts');

export interface Browser {
  root: string;
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(prefix: string): Promise<Browser> {
  requireChromium();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const context = await launchChromiumContext(path.join(root, 'profile'));
  return {
    root,
    context,
    close: async () => {
      await context.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface PageWatch {
  page: Page;
  consoleErrors: string[];
  consoleWarnings: string[];
  failedRequests: string[];
  remoteRequests: string[];
}

export async function openChartPage(context: BrowserContext, file: string): Promise<PageWatch> {
  const page = await context.newPage();
  const watch: PageWatch = { page, consoleErrors: [], consoleWarnings: [], failedRequests: [], remoteRequests: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') watch.consoleErrors.push(msg.text());
    if (msg.type() === 'warning') watch.consoleWarnings.push(msg.text());
  });
  page.on('pageerror', (err) => watch.consoleErrors.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => watch.failedRequests.push(`${req.url()}: ${req.failure()?.errorText}`));
  page.on('request', (req) => {
    if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) watch.remoteRequests.push(req.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForFunction(
    () => {
      const s = (window as unknown as { cbnnReport?: { total: number; rendered: number; failed: number } }).cbnnReport;
      return s !== undefined && s.rendered + s.failed === s.total;
    },
    undefined,
    { timeout: 60_000 },
  );
  return watch;
}

/** Data marks (not axes or legends) of one kind inside a chart container. */
export async function markCount(page: Page, chartId: string, mark: 'symbol' | 'rect' | 'line' | 'rule' | 'text'): Promise<number> {
  return page.locator(`#${chartId} svg g.mark-${mark}.role-mark > *`).count();
}
