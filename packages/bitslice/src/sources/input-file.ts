import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InvalidInputError, sha256Hex } from '@cbnn/core';

export interface InputFile {
  file: string;
  /** Content, gunzipped if the file was gzip. */
  bytes: Uint8Array;
  gzip: boolean;
  /** `basename sha256:<hex of the file as stored>`: recorded in the manifest. */
  fingerprint: string;
}

/** Read a source file; gzip (magic 1f 8b) is detected from the content, not the name. */
export function readInputFile(file: string, what: string): InputFile {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw new InvalidInputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
  const fingerprint = `${path.basename(file)} sha256:${sha256Hex(raw)}`;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    let bytes: Buffer;
    try {
      bytes = gunzipSync(raw);
    } catch (e) {
      throw new InvalidInputError(`${what} is a gzip file whose stream is corrupt or truncated (${(e as Error).message})`, { file });
    }
    return { file, bytes, gzip: true, fingerprint };
  }
  return { file, bytes: raw, gzip: false, fingerprint };
}
