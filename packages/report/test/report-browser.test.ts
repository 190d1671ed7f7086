import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { buildReport, loadReportInput } from '../src';
import { ARTIFACTS, launchBrowser, markCount, openChartPage, type Browser } from './browser-page';
import { SYNTHETIC_DAG, syntheticRgbSensitivity, writeSyntheticFolders, writeTinyDataset } from './synthetic-results';

/**
 * The report opened in Debian's real chromium (headless, no network features): every chart must
 * render its marks from the inlined Vega builds, with no console error and no failed or remote
 * request. The screenshot is kept in test-artifacts/ for a human to look at.
 */
jest.setTimeout(120_000);

let browser: Browser;
let root: string;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launchBrowser('cbnn-report-browser-');
  ({ root, context } = browser);
});

afterAll(async () => {
  await browser?.close();
});

const openReport = (file: string) => openChartPage(context, file);

it('renders every chart, the results table and the DAG in chromium, offline and without errors', async () => {
  const input = loadReportInput(writeSyntheticFolders(path.join(root, 'results')), {
    title: 'MNIST — compact BNN report (synthetic results)',
    dag: SYNTHETIC_DAG,
    provenance: { gitCommit: '0123456789abcdef', command: 'cbnn run pipelines/mnist.yaml', packageVersions: { '@cbnn/report': '0.1.0' } },
    generatedAt: '2026-11-26T12:00:00Z',
  });
  const { html } = buildReport(input);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, 'report.html');
  fs.writeFileSync(file, html);

  const watch = await openReport(file);
  const { page } = watch;
  const status = await page.evaluate(() => (window as unknown as { cbnnReport: unknown }).cbnnReport);
  expect(status).toEqual({ total: 5, rendered: 5, failed: 0, errors: [] });

  // Marks per chart: 8 planes x 2 modes; 8 + baseline points per mode on the cumulative lines;
  // 6 candidates + the baseline; 4 benchmark rows.
  expect(await markCount(page, 'chart-per-plane', 'symbol')).toBe(16);
  expect(await markCount(page, 'chart-per-plane', 'rule')).toBe(17); // 16 spreads + the baseline line
  expect(await markCount(page, 'chart-cumulative', 'symbol')).toBe(18);
  expect(await markCount(page, 'chart-cumulative', 'line')).toBe(2);
  expect(await markCount(page, 'chart-search', 'symbol')).toBe(7);
  expect(await markCount(page, 'chart-search', 'text')).toBe(2); // chosen and baseline labelled
  // Ablation: 9 configurations in each of the two facets (validation, test), a point and a spread each.
  expect(await markCount(page, 'chart-ablation', 'symbol')).toBe(18);
  expect(await markCount(page, 'chart-ablation', 'rule')).toBe(18);
  expect(await page.locator('#chart-runtime svg g.mark-rect.role-mark.layer_0_marks > path').count()).toBe(4); // bars
  expect(await markCount(page, 'chart-runtime', 'rule')).toBe(4); // q1..q3 spans
  expect(await markCount(page, 'chart-runtime', 'rect')).toBe(12); // 4 bars + q1 and q3 ticks
  // The chosen model's label is drawn next to its point.
  await expect(page.locator('#chart-search svg g.mark-text.role-mark text').allTextContents()).resolves.toContain('b7b6b5b4-w0.5');

  const rows = page.locator('#results-table tbody tr');
  expect(await rows.count()).toBe(3);
  expect(await rows.locator('td:first-child').allTextContents()).toEqual(['Baseline BNN', 'Compact BNN', 'Full precision']);
  expect(await page.locator('svg.dag g.dag-stage').count()).toBe(8);
  expect(await page.locator('#provenance-table').textContent()).toContain('0123456789abcdef');

  expect(watch.consoleErrors).toEqual([]);
  expect(watch.failedRequests).toEqual([]);
  expect(watch.remoteRequests).toEqual([]);
  expect(watch.consoleWarnings).toEqual([]);

  await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
  await page.close();
});

it('opens a report with no inputs: says what is missing, no chart and no error', async () => {
  const file = path.join(root, 'empty.html');
  fs.writeFileSync(file, buildReport({ generatedAt: '2026-11-26T12:00:00Z' }).html);
  const watch = await openReport(file);
  expect(await watch.page.locator('#missing-parts li').count()).toBeGreaterThanOrEqual(8);
  expect(await watch.page.locator('.chart').count()).toBe(0);
  expect(watch.consoleErrors).toEqual([]);
  expect(watch.failedRequests).toEqual([]);
  await watch.page.close();
});

it('renders a colour (24-plane) sensitivity report with a text DAG', async () => {
  writeTinyDataset(path.join(root, 'rgb-data'));
  const input = loadReportInput({ dataset: path.join(root, 'rgb-data') }, { dag: 'data -> baseline -> sensitivity -> report' });
  input.sensitivity = syntheticRgbSensitivity();
  const file = path.join(root, 'rgb.html');
  fs.writeFileSync(file, buildReport(input).html);
  const watch = await openReport(file);
  expect(await markCount(watch.page, 'chart-per-plane', 'symbol')).toBe(48);
  expect(await markCount(watch.page, 'chart-cumulative', 'line')).toBe(6);
  expect(await watch.page.locator('pre.dag-text').textContent()).toBe('data -> baseline -> sensitivity -> report');
  expect(watch.consoleErrors).toEqual([]);
  expect(watch.consoleWarnings).toEqual([]);
  expect(watch.failedRequests).toEqual([]);
  await watch.page.screenshot({ path: path.join(ARTIFACTS, 'report-rgb.png'), fullPage: true });
  await watch.page.close();
});
