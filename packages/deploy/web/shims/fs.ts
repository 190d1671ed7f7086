/** node:fs in the page: only reads of files the page provided (the kernels' wasm). */
const files = new Map<string, Uint8Array>();

export function provideFile(file: string, bytes: Uint8Array): void {
  files.set(file, bytes);
}

export function readFileSync(file: string): Uint8Array {
  const bytes = files.get(file);
  if (!bytes) throw new Error(`${file} is not available in the browser page`);
  return bytes;
}

function unavailable(): never {
  throw new Error('file system access is not available in the browser page');
}
export const existsSync = (): boolean => false;
export const writeFileSync = unavailable;
export const mkdirSync = unavailable;
export const openSync = unavailable;
export const statSync = unavailable;
export const readdirSync = unavailable;
