import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidInputError } from '@cbnn/core';

/**
 * Flash and RAM of the generated model.c as a compiler sees them: compile it to an object and
 * read `size` (Berkeley format: text includes the const weights in .rodata). The numbers are
 * for the compiler's target (the host's unless `cc` is a cross compiler such as
 * arm-none-eabi-gcc, whose `size` is then arm-none-eabi-size).
 */
export interface CompilerOptions {
  /** Compiler command (default: $CC, else the first of cc, gcc, clang found). */
  cc?: string;
  /** Flags for the measured build (default: -std=c99 -O2). */
  cflags?: string[];
}

export interface FlashMeasurement {
  /** text + data of model.o: what goes to flash. */
  flashBytes: number;
  text: number;
  data: number;
  bss: number;
  compiler: string;
  target: string;
  command: string;
}

export const DEFAULT_CFLAGS = ['-std=c99', '-O2'];

function run(cmd: string, args: string[], cwd?: string): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  return { ok: r.status === 0 && !r.error, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

export function findCompiler(preferred?: string): string | undefined {
  const candidates = preferred ? [preferred] : [process.env.CC, 'cc', 'gcc', 'clang'].filter((c): c is string => !!c);
  return candidates.find((c) => run(c, ['--version']).ok);
}

/** `size` beside a cross compiler (arm-none-eabi-gcc -> arm-none-eabi-size), else `size`. */
function sizeTool(cc: string): string {
  const m = /^(.*-)(gcc|clang|cc)$/.exec(path.basename(cc));
  if (m) {
    const cross = path.join(path.dirname(cc), `${m[1]}size`);
    if (run(cross, ['--version']).ok) return cross;
  }
  return 'size';
}

/**
 * Compile `dir/model.c` and measure it. Returns a reason instead when no compiler or no `size`
 * is available (the export still succeeds). A compile error names the compiler and its first
 * complaint: the generated code builds with gcc and clang, so it is the toolchain (e.g. a cross
 * compiler without its C library's headers).
 */
export function measureFlash(dir: string, options: CompilerOptions = {}): { measurement?: FlashMeasurement; reason?: string } {
  const cc = findCompiler(options.cc);
  if (!cc) return { reason: options.cc ? `compiler '${options.cc}' not found` : 'no C compiler found ($CC, cc, gcc, clang)' };
  const flags = options.cflags ?? DEFAULT_CFLAGS;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-export-c-'));
  try {
    const obj = path.join(tmp, 'model.o');
    const args = [...flags, '-c', path.join(dir, 'model.c'), '-o', obj];
    const compiled = run(cc, args);
    if (!compiled.ok) {
      const first = compiled.stderr.split('\n').find((l) => /error/.test(l)) ?? compiled.stderr.trim().split('\n')[0];
      throw new InvalidInputError(
        `'${cc} ${flags.join(' ')}' cannot compile the generated model.c: ${first?.trim() ?? 'no message'}`,
        { file: path.join(dir, 'model.c'), field: 'cc' },
        "install the compiler's C library headers (model.c needs <stdint.h> and <string.h>), or choose another compiler with --cc",
      );
    }
    const size = sizeTool(cc);
    const measured = run(size, ['--format=berkeley', obj]);
    if (!measured.ok) return { reason: `'${size}' is not available to measure the object` };
    const numbers = measured.stdout.trim().split('\n')[1]?.trim().split(/\s+/).map(Number) ?? [];
    const [text, data, bss] = numbers;
    if (![text, data, bss].every(Number.isInteger)) return { reason: `could not read '${size}' output: ${measured.stdout.trim()}` };
    return {
      measurement: {
        flashBytes: text + data,
        text,
        data,
        bss,
        compiler: run(cc, ['--version']).stdout.split('\n')[0].trim(),
        target: run(cc, ['-dumpmachine']).stdout.trim() || 'unknown',
        command: `${path.basename(cc)} ${flags.join(' ')} -c model.c && ${path.basename(size)} model.o`,
      },
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
