import * as path from 'node:path';
import type { Command } from 'commander';
import { describeExportC, describeExportWeb, exportC, exportWeb } from '@cbnn/deploy';
import { positiveInteger, printJson } from '../context';

interface ExportOptions {
  out: string;
  force?: boolean;
  json?: boolean;
  cc?: string;
  cflags?: string;
  dataset?: string;
  split?: 'train' | 'validation' | 'test';
  images?: number;
  title?: string;
}

/** `cbnn export c|web MODEL --out DIR`: deployable artifacts of a model.cbnn (@cbnn/deploy). */
export function registerExport(program: Command): void {
  const exp = program.command('export').description('turn a model.cbnn into deployable artifacts: a C99 library, or a static browser page');
  const common = (cmd: Command): Command =>
    cmd
      .requiredOption('--out <dir>', 'output folder (created; refused when it exists and is not empty, unless --force)')
      .option('--force', 'write into a non-empty output folder, overwriting the exported files')
      .option('--json', 'print the export record (JSON) instead of the summary');

  common(
    exp
      .command('c <model>')
      .description('C99 library for microcontrollers: model.h, model.c (const weights, static buffers), main.c; prints flash and RAM bytes')
      .option('--cc <compiler>', 'compiler for the flash measurement (default: $CC, cc, gcc, clang); e.g. arm-none-eabi-gcc')
      .option('--cflags <flags>', "flags of the measured build, space-separated (default: '-std=c99 -O2'); e.g. '-std=c99 -Os -mcpu=cortex-m4 -mthumb'"),
  ).action((model: string, opts: ExportOptions) => {
    const out = path.resolve(opts.out);
    const cflags = opts.cflags?.split(/\s+/).filter((f) => f !== '');
    const record = exportC(path.resolve(model), out, { force: opts.force, cc: opts.cc, cflags });
    if (opts.json) printJson(record);
    else process.stdout.write(`${describeExportC(record, out)}\n`);
  });

  common(
    exp
      .command('web <model>')
      .description('static web page (index.html, engine.js, kernels.wasm, model.cbnn): draw or pick an image, see prediction, scores, latency')
      .option('--dataset <dir>', 'dataset artifact folder whose images are bundled as test images')
      .option('--split <name>', 'split of --dataset to bundle images from', 'test')
      .option('--images <n>', 'how many images to bundle', positiveInteger('--images'), 40)
      .option('--title <text>', 'page title'),
  ).action((model: string, opts: ExportOptions) => {
    const out = path.resolve(opts.out);
    const images = opts.images;
    const record = exportWeb(path.resolve(model), out, {
      force: opts.force,
      dataset: opts.dataset && path.resolve(opts.dataset),
      split: opts.split,
      images,
      title: opts.title,
    });
    if (opts.json) printJson(record);
    else process.stdout.write(`${describeExportWeb(record, out)}\n`);
  });
}
