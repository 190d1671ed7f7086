import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildExpPlot, groupConfigs, paretoFront, type ExpPlotInput, type ExpPlotRun } from '../src';
import { ARTIFACTS, launchBrowser, markCount, openChartPage, type Browser } from './browser-page';
import { syntheticSearch } from './synthetic-results';

/**
 * The experiments page (`cbnn exp plot`) from five synthetic runs: A and B are two seeds of one
 * configuration, C restores A's models from the cache, D changes the learning rate, E is another
 * pipeline. Opened in chromium like the report: marks counted, no console error, no network.
 */
jest.setTimeout(120_000);

const shifted = (by: number) => {
  const s = syntheticSearch();
  for (const c of [s.baseline, ...s.candidates]) {
    c.validationAccuracy -= by;
    c.testAccuracy -= by;
  }
  return s;
};
const keysOf = (prefix: string, s = syntheticSearch()) => Object.fromEntries([s.baseline, ...s.candidates].map((c) => [c.name, `${prefix}-${c.name}`]));
const curve = (stage: string, start: number) => ({ stage, epochs: [1, 2, 3, 4, 5].map((epoch) => ({ epoch, validationAccuracy: start + epoch * 0.01 })) });

function runs(): ExpPlotRun[] {
  const base = { pipeline: 'mnist', status: 'ok', startedAt: '2026-12-01T07:00:00Z' };
  const metric = (v: number) => ({ 'select.testAccuracy': v, 'select.packedBytes': 121256 });
  const small = syntheticSearch();
  small.candidates = [small.candidates[1]];
  for (const c of [small.baseline, ...small.candidates]) c.testAccuracy = c.name === 'baseline' ? 0.99 : 0.98;
  const other = syntheticSearch();
  other.baseline.packedBytes = 50_000;
  other.candidates = [{ ...other.candidates[0], packedBytes: 20_000, testAccuracy: 0.85 }];
  other.chosen = other.candidates[0].name;
  return [
    {
      ...base,
      id: '20261201-070000-aaaa',
      name: 'seed1',
      params: { lr: 0.01, seed: 1 },
      metrics: metric(0.9748),
      search: syntheticSearch(),
      candidateKeys: keysOf('A'),
      curves: [curve('baseline', 0.9)],
    },
    {
      ...base,
      id: '20261201-070100-bbbb',
      name: 'seed2',
      params: { lr: 0.01, seed: 2 },
      metrics: metric(0.9728),
      search: shifted(0.002),
      candidateKeys: keysOf('B'),
      curves: [curve('baseline', 0.91)],
    },
    { ...base, id: '20261201-070200-cccc', params: { lr: 0.01, seed: 1 }, metrics: metric(0.9748), search: syntheticSearch(), candidateKeys: keysOf('A') },
    {
      ...base,
      id: '20261201-070300-dddd',
      name: 'lr2',
      params: { lr: 0.02, seed: 1 },
      metrics: metric(0.98),
      search: small,
      candidateKeys: keysOf('D', small),
      curves: [curve('baseline', 0.92), curve('search-w0.5', 0.88)],
    },
    {
      ...base,
      id: '20261201-070400-eeee',
      pipeline: 'fashion',
      params: { lr: 0.01, seed: 3 },
      metrics: metric(0.85),
      search: other,
      candidateKeys: keysOf('E', other),
    },
  ];
}

describe('experiments page: grouping and the Pareto front', () => {
  it('groups models of one configuration (seeds) and keeps only groups no smaller group beats', () => {
    const points = [
      { pipeline: 'p', settings: '', config: 'a', bytes: 100, accuracy: 0.9 },
      { pipeline: 'p', settings: '', config: 'a', bytes: 100, accuracy: 0.94 },
      { pipeline: 'p', settings: '', config: 'b', bytes: 50, accuracy: 0.8 },
      { pipeline: 'p', settings: '', config: 'c', bytes: 200, accuracy: 0.91 }, // bigger and worse than a's mean 0.92
      { pipeline: 'p', settings: 'lr', config: 'a', bytes: 100, accuracy: 0.95 }, // other settings: its own group
      { pipeline: 'q', settings: '', config: 'a', bytes: 300, accuracy: 0.5 },
    ];
    const groups = groupConfigs(points);
    expect(groups.map((g) => [g.pipeline, g.config, g.n, Number(g.mean.toFixed(3)), g.lo, g.hi])).toEqual([
      ['p', 'a', 2, 0.92, 0.9, 0.94],
      ['p', 'b', 1, 0.8, 0.8, 0.8],
      ['p', 'c', 1, 0.91, 0.91, 0.91],
      ['p', 'a', 1, 0.95, 0.95, 0.95],
      ['q', 'a', 1, 0.5, 0.5, 0.5],
    ]);
    expect(paretoFront(groups).map((g) => [g.pipeline, g.bytes, g.mean])).toEqual([
      ['p', 50, 0.8],
      ['p', 100, 0.95],
      ['q', 300, 0.5],
    ]);
  });

  it('says what it cannot show', () => {
    const built = buildExpPlot({
      runs: [{ id: '20261201-070000-aaaa', pipeline: 'p', status: 'ok', startedAt: 'x', params: {}, metrics: {} }],
      metric: 'select.testAccuracy',
      generatedAt: 'now',
    });
    expect(built.charts).toEqual([]);
    expect(built.missing.map((m) => m.title)).toEqual(['Model size vs accuracy', 'Training curves', 'Params vs metric']);
  });
});

describe('experiments page in chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser('cbnn-exp-browser-');
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders size vs accuracy with seeds as error bars and the front, curves across runs, params vs the metric', async () => {
    const input: ExpPlotInput = { runs: runs(), metric: 'select.testAccuracy', generatedAt: '2026-12-01T08:00:00Z', notes: ['run x: left out'] };
    const built = buildExpPlot(input);
    expect(built.missing).toEqual([]);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'experiments.html');
    fs.writeFileSync(file, built.html);

    const watch = await openChartPage(browser.context, file);
    const { page } = watch;
    expect(await page.evaluate(() => (window as unknown as { cbnnReport: unknown }).cbnnReport)).toEqual({ total: 3, rendered: 3, failed: 0, errors: [] });

    // A: 7 models, B: 7 more (other seed), C: A's models again (drawn once), D: 2, E: 2.
    expect(await markCount(page, 'chart-size-accuracy', 'symbol')).toBe(18);
    // The 7 configurations A and B share have a spread; D's and E's were trained once.
    expect(await markCount(page, 'chart-size-accuracy', 'rule')).toBe(7);
    // One front per pipeline.
    expect(await page.locator('#chart-size-accuracy svg g.mark-line.role-mark.front_marks > path').count()).toBe(2);
    // A, B: the baseline; D: baseline and one search stage.
    expect(await markCount(page, 'chart-curves', 'line')).toBe(4);
    expect(await markCount(page, 'chart-curves', 'symbol')).toBe(20); // a point per epoch
    // lr and seed differ: one facet each, a point per run.
    expect(await markCount(page, 'chart-params', 'symbol')).toBe(10);
    expect(await page.locator('#runs-table tbody tr').count()).toBe(5);

    expect(watch.consoleErrors).toEqual([]);
    expect(watch.failedRequests).toEqual([]);
    expect(watch.remoteRequests).toEqual([]);
    expect(watch.consoleWarnings).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'experiments.png'), fullPage: true });
    await page.close();
  });
});
