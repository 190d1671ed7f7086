import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRng, writeDataset } from '@cbnn/core';
import { randomEngineModel, readEngineModel, vggSmallLayers, writeEngineModel } from '@cbnn/kernels';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, requireChromium } from '@cbnn/browser-test';
import { EXPORT_WEB_FILE, WEB_ENGINE_BUNDLE, enginePredictions, exportWeb } from '../src';

/**
 * The exported page in Debian's chromium, from file:// and from a local static server: its
 * predictions on the bundled test images must equal the engine's in Node (classes and float32
 * scores), with no console error and no request that leaves the folder. Drawing on the canvas
 * must produce a prediction. Screenshot in test-artifacts/.
 */
const ARTIFACTS = path.join(__dirname, '..', 'test-artifacts');
const H = 28;
const W = 28;
const CLASSES = 10;
const TEST_IMAGES = 24;

jest.setTimeout(120_000);

let root: string;
let browser: Browser;
let outDir: string;
let images: Uint8Array;
let server: http.Server;
let origin: string;

beforeAll(async () => {
  requireChromium();
  if (!fs.existsSync(WEB_ENGINE_BUNDLE)) throw new Error(`${WEB_ENGINE_BUNDLE} is missing: build the package first (npx nx build @cbnn/deploy)`);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-deploy-web-'));
  const modelFile = path.join(root, 'model.cbnn');
  writeEngineModel(modelFile, randomEngineModel({ height: H, width: W, features: 2, classes: CLASSES, layers: vggSmallLayers(0.19), seed: 9 }));
  const total = 8 + TEST_IMAGES;
  const rng = createRng(4);
  images = new Uint8Array(total * H * W);
  // Digit-like: dark background, a bright blob per image.
  for (let i = 0; i < total; i++) {
    const cy = 6 + rng.int(16);
    const cx = 6 + rng.int(16);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const d = Math.hypot(y - cy, x - cx);
        images[(i * H + y) * W + x] = d < 6 ? 255 - rng.int(120) : rng.int(40);
      }
  }
  const labels = Uint8Array.from({ length: total }, (_, i) => i % CLASSES);
  const perClass = (offset: number, count: number) =>
    Array.from({ length: CLASSES }, (_, k) => Array.from({ length: count }, (_, j) => (offset + j) % CLASSES).filter((l) => l === k).length);
  const dataset = path.join(root, 'data');
  writeDataset(
    dataset,
    {
      source: { name: 'deploy-fixture', version: '1' },
      shape: { height: H, width: W, channels: 1 },
      channelNames: ['grey'],
      classNames: Array.from({ length: CLASSES }, (_, i) => `class${i}`),
      splits: {
        train: { offset: 0, count: 6, perClass: perClass(0, 6) },
        validation: { offset: 6, count: 2, perClass: perClass(6, 2) },
        test: { offset: 8, count: TEST_IMAGES, perClass: perClass(8, TEST_IMAGES) },
      },
      splitMethod: 'fixed offsets',
      seed: 1,
      malformed: { count: 0, records: [] },
    },
    images,
    labels,
  );
  outDir = path.join(root, 'web');
  const record = exportWeb(modelFile, outDir, { dataset, images: 100 });
  expect(record.images).toEqual({ count: TEST_IMAGES, split: 'test', dataset: 'data' });
  expect(fs.existsSync(path.join(outDir, EXPORT_WEB_FILE))).toBe(true);

  server = http.createServer((req, res) => {
    const file = path.join(outDir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/$/, '/index.html'));
    if (!file.startsWith(outDir) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.html')
      ? 'text/html'
      : file.endsWith('.js')
        ? 'text/javascript'
        : file.endsWith('.json')
          ? 'application/json'
          : file.endsWith('.wasm')
            ? 'application/wasm'
            : 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface Watched {
  page: Page;
  errors: string[];
  foreign: string[];
  failed: string[];
}

async function open(url: string, local: (u: string) => boolean): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const w: Watched = { page, errors: [], foreign: [], failed: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') w.errors.push(m.text());
  });
  page.on('pageerror', (e) => w.errors.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!local(r.url())) w.foreign.push(r.url());
  });
  page.on('requestfailed', (r) => w.failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(
    () => {
      const s = (window as unknown as { cbnnDeploy?: { ready: boolean; error: string | null } }).cbnnDeploy;
      return s !== undefined && (s.ready || s.error !== null);
    },
    undefined,
    { timeout: 60_000 },
  );
  return w;
}

async function pagePredictions(page: Page): Promise<{ predicted: number; scores: number[] }[]> {
  return page.evaluate(() => (window as unknown as { cbnnDeploy: { predictions: { predicted: number; scores: number[] }[] } }).cbnnDeploy.predictions);
}

function expectEngineAgreement(got: { predicted: number; scores: number[] }[]): void {
  const testImages = images.subarray(8 * H * W);
  const expected = enginePredictions(readEngineModel(path.join(outDir, 'model.cbnn')), testImages, TEST_IMAGES);
  expect(got).toHaveLength(TEST_IMAGES);
  expect(got.map((p) => p.predicted)).toEqual(Array.from(expected.classes));
  expect(got.map((p) => p.scores)).toEqual(Array.from({ length: TEST_IMAGES }, (_, i) => Array.from(expected.scores.subarray(i * CLASSES, (i + 1) * CLASSES))));
}

it('from file://: predicts every bundled test image as the engine in Node does, offline, without errors', async () => {
  const w = await open(pathToFileURL(path.join(outDir, 'index.html')).href, (u) => u.startsWith('file:') || u.startsWith('data:'));
  expect(await w.page.evaluate(() => (window as unknown as { cbnnDeploy: { error: string | null } }).cbnnDeploy.error)).toBeNull();
  expectEngineAgreement(await pagePredictions(w.page));
  expect(await w.page.textContent('#size')).toBe(`${fs.statSync(path.join(outDir, 'model.cbnn')).size.toLocaleString('en-US')} B (model.cbnn)`);
  expect(await w.page.textContent('#latency')).toMatch(/^\d+\.\d{3} ms per image/);
  expect(await w.page.locator('#thumbs canvas').count()).toBe(TEST_IMAGES);

  // Draw a stroke: the page predicts the drawing.
  const box = (await w.page.locator('#pad').boundingBox())!;
  await w.page.mouse.move(box.x + 140, box.y + 40);
  await w.page.mouse.down();
  for (let t = 0; t <= 10; t++) await w.page.mouse.move(box.x + 140 + 10 * Math.sin(t / 3), box.y + 40 + 20 * t);
  await w.page.mouse.up();
  await expect(w.page.textContent('#truth')).resolves.toBe('drawn');
  expect(await w.page.textContent('#predicted')).toMatch(/^class\d$/);

  expect(w.errors).toEqual([]);
  expect(w.foreign).toEqual([]);
  expect(w.failed).toEqual([]);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await w.page.screenshot({ path: path.join(ARTIFACTS, 'deploy-web.png'), fullPage: true });
  await w.page.close();
});

it('from a local static server: fetches the model, the wasm and the images, and agrees with the engine', async () => {
  const w = await open(`${origin}/`, (u) => u.startsWith(origin) || u.startsWith('data:'));
  expect(await w.page.evaluate(() => (window as unknown as { cbnnDeploy: { error: string | null } }).cbnnDeploy.error)).toBeNull();
  expectEngineAgreement(await pagePredictions(w.page));
  expect(w.errors).toEqual([]);
  expect(w.foreign).toEqual([]);
  expect(w.failed).toEqual([]);
  await w.page.close();
});
