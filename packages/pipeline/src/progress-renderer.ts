import type { ProgressUpdate } from '@cbnn/core';
import type { RunReporter, RunSummary, StageOutcome } from './run-reporter';

interface Live {
  started: number;
  progressAt?: number;
  /** When the current phase (the progress counter's latest restart) began. */
  phaseStarted?: number;
  update?: ProgressUpdate;
  attempt: string;
}

/**
 * Renders a run for people. On a TTY: one live line per running stage (bar, ETA from the stage's
 * progress reports), redrawn in place; elsewhere plain lines. Ends with a summary table.
 */
export class ProgressRenderer implements RunReporter {
  private readonly live = new Map<string, Live>();
  private drawn = 0;
  private timer?: NodeJS.Timeout;
  private lastPlain = new Map<string, number>();

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty = out.isTTY === true,
    private readonly showLogs: 'all' | 'warn' = 'warn',
  ) {}

  message(text: string): void {
    this.print(text);
  }

  stageStarted(id: string, info: { attempt: number; attempts: number; executor?: string }): void {
    this.live.set(id, { started: Date.now(), attempt: info.attempts > 1 ? ` (attempt ${info.attempt}/${info.attempts})` : '' });
    if (this.tty) {
      this.timer ??= setInterval(() => this.redraw(), 250);
      this.timer.unref();
      this.redraw();
    } else this.print(`▶ ${id}: ${info.executor === 'bullmq' ? 'queued for a worker' : 'started'}${this.live.get(id)!.attempt}`);
  }

  stageProgress(id: string, update: ProgressUpdate): void {
    const l = this.live.get(id);
    if (!l) return;
    // A stage's counter restarts per phase (e.g. batches of each epoch): the ETA is for the
    // current phase, measured from when its counter last went back.
    if (l.update?.current === undefined || update.current === undefined || update.current < l.update.current || update.total !== l.update.total) {
      l.phaseStarted = Date.now();
    }
    l.update = update;
    l.progressAt = Date.now();
    if (this.tty) return; // redrawn by the timer
    const last = this.lastPlain.get(id) ?? 0;
    if (Date.now() - last < 2000 && update.current !== update.total) return;
    this.lastPlain.set(id, Date.now());
    this.print(`  ${id}: ${describe(update, l.started, l.phaseStarted)}`);
  }

  stageLog(id: string, line: string, replay: boolean): void {
    let rec: { level?: number; msg?: string };
    try {
      rec = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      rec = { level: 30, msg: line };
    }
    const level = rec.level ?? 30;
    if (this.showLogs === 'warn' && level < 40 && !replay) return;
    if (replay && level < 30) return;
    this.print(`  ${id}${replay ? ' (cached log)' : ''}: ${rec.msg ?? line}`);
  }

  stageFinished(o: StageOutcome): void {
    this.live.delete(o.id);
    const what = o.status === 'ran' ? `done in ${secs(o.durationMs)}` : o.status;
    this.print(`${icon(o.status)} ${o.id}: ${what}${o.note && o.status !== 'ran' ? ` — ${o.note.split('\n')[0]}` : ''}`);
    if (o.status === 'failed' && o.note?.includes('\n'))
      this.print(
        o.note
          .split('\n')
          .slice(1)
          .map((l) => `    ${l}`)
          .join('\n'),
      );
    if (this.live.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  runFinished(s: RunSummary): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clearLive();
    this.out.write(summaryTable(s) + '\n');
  }

  private print(text: string): void {
    this.clearLive();
    this.out.write(text + '\n');
    if (this.tty) this.redraw();
  }

  private clearLive(): void {
    if (!this.tty || this.drawn === 0) return;
    this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private redraw(): void {
    if (!this.tty) return;
    this.clearLive();
    const width = Math.max(40, (this.out.columns ?? 100) - 1);
    const lines = [...this.live].map(([id, l]) =>
      `… ${id}${l.attempt}: ${l.update ? describe(l.update, l.started, l.phaseStarted) : `running ${secs(Date.now() - l.started)}`}`.slice(0, width),
    );
    if (lines.length) this.out.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }
}

function describe(u: ProgressUpdate, started: number, phaseStarted = started): string {
  const parts: string[] = [];
  if (u.total && u.current !== undefined) {
    const frac = Math.min(1, u.current / u.total);
    const filled = Math.round(frac * 20);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] ${u.current}/${u.total}${u.unit ? ' ' + u.unit : ''}`);
    const elapsed = Date.now() - phaseStarted;
    if (frac > 0 && frac < 1) parts.push(`ETA ${secs((elapsed / frac) * (1 - frac))}`);
  }
  if (u.message) parts.push(u.message);
  parts.push(secs(Date.now() - started));
  return parts.join('  ');
}

function icon(status: StageOutcome['status']): string {
  return { ran: '✔', cached: '↺', failed: '✖', skipped: '–', cancelled: '■' }[status];
}

export function secs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60000)}m${Math.round((ms % 60000) / 1000)}s`;
}

/** A stage's threads over time: `2`, or `1 -> 2 at 5m12s` (times from the stage's start). */
export function threadTimeline(changes: readonly { atMs: number; threads: number }[] | undefined): string {
  if (!changes?.length) return '-';
  return changes.map((c, i) => (i === 0 ? String(c.threads) : `-> ${c.threads} at ${secs(c.atMs)}`)).join(' ');
}

export function summaryTable(s: RunSummary): string {
  const executed = (o: StageOutcome): boolean => o.status === 'ran' || o.status === 'failed';
  const rows = s.outcomes.map((o) => [
    o.id,
    o.status,
    executed(o) ? secs(o.durationMs) : '-',
    executed(o) && o.waitMs !== undefined ? secs(o.waitMs) : '-',
    executed(o) ? threadTimeline(o.threads) : '-',
    o.attempts > 1 ? `${o.attempts} attempts` : '',
  ]);
  const head = ['stage', 'result', 'duration', 'waited', 'threads', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const total = `${s.executed} ran, ${s.cached} cached, ${s.failed} failed${s.skipped ? `, ${s.skipped} not run` : ''} in ${secs(s.durationMs)}${s.cancelled ? ' (cancelled)' : ''}`;
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt), total].join('\n');
}
