import type { Logger } from '@cbnn/core';
import type { MalformedRecord } from '@cbnn/core';

/** How many excluded records are listed by index in the manifest and the log (all are counted). */
export const MALFORMED_LISTED = 100;

/**
 * Records a source excluded, with the reason. Every one is counted; the first
 * `MALFORMED_LISTED` are kept (and logged) with file, index and reason.
 */
export class MalformedRecords {
  count = 0;
  readonly records: MalformedRecord[] = [];

  constructor(private readonly logger?: Logger) {}

  /** `listAll`: list it even past the first MALFORMED_LISTED (skipped files: each one matters). */
  add(file: string, index: number, reason: string, options: { listAll?: boolean } = {}): void {
    this.count++;
    if (options.listAll || this.records.length < MALFORMED_LISTED) {
      this.records.push({ file, index, reason });
      this.logger?.warn({ file, index, reason }, `malformed record excluded: ${file} #${index}: ${reason}`);
    } else if (this.count === MALFORMED_LISTED + 1) {
      this.logger?.warn(`more than ${MALFORMED_LISTED} malformed records; the rest are counted but not listed`);
    }
  }

  report(): { count: number; records: MalformedRecord[] } {
    return { count: this.count, records: [...this.records] };
  }
}
