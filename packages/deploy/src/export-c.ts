import * as path from 'node:path';
import { planeLabel, writeFileAtomicSync, writeJsonAtomicSync } from '@cbnn/core';
import { measureFlash, type CompilerOptions } from './c-build';
import { emitC } from './c-emitter';
import { EXPORT_C_FILE, exportCRecordSchema, type ExportCRecord } from './export-format';
import { loadModel } from './model-file';
import { prepareOutDir } from './out-dir';

export interface ExportCOptions extends CompilerOptions {
  /** Overwrite the export's files in a non-empty folder. */
  force?: boolean;
  /** Skip the compile-and-size measurement (flash is then null). */
  measure?: boolean;
}

/**
 * `cbnn export c`: model.h, model.c, main.c and a Makefile in `outDir`, plus export-c.json with
 * the const bytes, the static RAM and the flash bytes measured on the compiled object.
 */
export function exportC(modelTarget: string, outDir: string, options: ExportCOptions = {}): ExportCRecord {
  const { file, model, ref } = loadModel(modelTarget);
  const emitted = emitC(model, { source: `${ref.file} (sha256 ${ref.sha256.slice(0, 16)})`, file });
  prepareOutDir(outDir, options.force ?? false);
  const files: Record<string, number> = {};
  for (const [name, text] of Object.entries(emitted.sources)) {
    writeFileAtomicSync(path.join(outDir, name), text);
    files[name] = Buffer.byteLength(text);
  }
  const measured = options.measure === false ? { reason: 'not measured (measure: false)' } : measureFlash(outDir, options);
  const record: ExportCRecord = exportCRecordSchema.parse({
    format: 'cbnn.export-c',
    version: 1,
    model: ref,
    input: { height: model.input.height, width: model.input.width, channels: model.input.layout.channels, planes: model.input.layout.planes.map(planeLabel) },
    classNames: model.classNames,
    files,
    constBytes: emitted.constBytes,
    ram: emitted.ram,
    flash: measured.measurement ?? null,
    ...(measured.reason ? { flashNote: measured.reason } : {}),
    layers: emitted.layers,
  });
  writeJsonAtomicSync(path.join(outDir, EXPORT_C_FILE), record);
  return record;
}

/** Lines for a terminal: what was written and the flash/RAM figures. */
export function describeExportC(record: ExportCRecord, outDir: string): string {
  const flash = record.flash
    ? `flash ${record.flash.flashBytes.toLocaleString('en-US')} B (text ${record.flash.text} + data ${record.flash.data}; ${record.flash.command}; ${record.flash.compiler}, ${record.flash.target})`
    : `flash not measured: ${record.flashNote}`;
  return [
    `C library of ${record.model.file} (${record.input.height}x${record.input.width}, planes ${record.input.planes.join(' ')}, ${record.classNames.length} classes) in ${outDir}:`,
    `  ${Object.keys(record.files).join(', ')}, ${EXPORT_C_FILE}`,
    `  ${flash}`,
    `  const data ${record.constBytes.toLocaleString('en-US')} B; RAM ${record.ram.totalBytes.toLocaleString('en-US')} B static (activations ${record.ram.activationBytes} + conv scratch ${record.ram.scratchBytes}), no heap`,
    `  build: cd ${outDir} && cc -std=c99 -O2 main.c model.c -o predict && ./predict < images.u8`,
  ].join('\n');
}
