/**
 * Job slots and the thread budget of one run, handed out by the critical path.
 *
 * Slots: at most `jobs` stages run at once. A ready stage asks for a slot; a free slot goes to the
 * waiting stage with the highest priority (the work that waits on it, critical-path.ts), ties in
 * pipeline order. Requests are collected until the current turn of the event loop ends, so the
 * stages made ready by the same finished upstream compete on priority, not on who asked first.
 *
 * Threads: `threads` is the budget shared by the running stages; each holds at least one. After
 * every change (a stage starts, finishes, or says it adapts) the budget is dealt again: one
 * thread each, then the rest to the running stages in priority order, each up to what it can
 * use. A stage pinned by the pipeline (`threads:`) holds its pin. A stage that never said it
 * adapts (`canUse`) keeps the count it started with; the others get their new count through
 * `onChange` and report what they adopted. A stage that starts while another holds more than one
 * thread gets its one at once: the holder is told to shrink and does so at its next boundary
 * (an epoch), so the budget can be exceeded by one thread per new stage until then.
 */
export interface SchedulerOptions {
  jobs: number;
  threads: number;
  /** Higher runs first. */
  priority: ReadonlyMap<string, number>;
  /** Pipeline order: the tie-breaker. */
  order: ReadonlyMap<string, number>;
  now?: () => number;
}

/** One point of a stage's thread timeline: from `atMs` after its start it ran on `threads`. */
export interface ThreadChange {
  atMs: number;
  threads: number;
}

export interface StageLease {
  readonly id: string;
  /** Threads the stage starts on. */
  readonly threads: number;
  /** From asking for a slot to getting it. */
  readonly waitMs: number;
  /** Threads the stage is given now (a retry starts on this). */
  current(): number;
  /** Called with every new count the runner gives the stage (only after `canUse`). */
  onChange(listener: (threads: number) => void): void;
  /** The stage adopts changed counts, up to `max`. */
  canUse(max: number): void;
  /** The stage now runs on `threads`; returns the count it ran on before, when this changes it. */
  adopted(threads: number): number | undefined;
  /** Threads over time (the first entry is what it started on, or its first report of it). */
  timeline(): ThreadChange[];
  release(): void;
}

type Mode = 'pinned' | 'new' | 'fixed' | 'adaptive';

interface Running {
  id: string;
  mode: Mode;
  /** The count the runner gives it now. */
  assigned: number;
  /** What it can use (adaptive stages). */
  max: number;
  startedAt: number;
  timeline: ThreadChange[];
  reported: boolean;
  listeners: Array<(threads: number) => void>;
}

interface Waiting {
  id: string;
  pinned?: number;
  askedAt: number;
  grant: (lease: StageLease) => void;
}

export class StageScheduler {
  private readonly waiting: Waiting[] = [];
  private readonly running = new Map<string, Running>();
  private scheduled = false;
  private readonly now: () => number;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A slot for stage `id` (`pinned`: the pipeline fixed its threads). */
  acquire(id: string, pinned?: number): Promise<StageLease> {
    return new Promise((grant) => {
      this.waiting.push({ id, pinned, askedAt: this.now(), grant });
      this.schedule();
    });
  }

  /** Threads each running stage is given now (tests, the progress line). */
  assignment(): Map<string, number> {
    return new Map([...this.running.values()].map((r) => [r.id, r.assigned]));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the microtasks of this turn: every stage a finished upstream made ready has asked.
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private rank(a: string, b: string): number {
    const { priority, order } = this.options;
    return (priority.get(b) ?? 0) - (priority.get(a) ?? 0) || (order.get(a) ?? 0) - (order.get(b) ?? 0);
  }

  private dispatch(): void {
    const granted: Array<{ w: Waiting; r: Running }> = [];
    this.waiting.sort((a, b) => this.rank(a.id, b.id));
    while (this.running.size < Math.max(1, this.options.jobs) && this.waiting.length) {
      const w = this.waiting.shift()!;
      const r: Running = {
        id: w.id,
        mode: w.pinned !== undefined ? 'pinned' : 'new',
        assigned: w.pinned ?? 1,
        max: w.pinned ?? Infinity,
        startedAt: this.now(),
        timeline: [],
        reported: false,
        listeners: [],
      };
      this.running.set(w.id, r);
      granted.push({ w, r });
    }
    const changed = this.deal();
    for (const { w, r } of granted) {
      if (r.mode === 'new') r.mode = 'fixed'; // until it says it adapts
      r.timeline.push({ atMs: 0, threads: r.assigned });
      w.grant(this.leaseOf(r, r.startedAt - w.askedAt));
    }
    for (const r of changed) if (r.mode === 'adaptive') for (const l of r.listeners) l(r.assigned);
  }

  /** Deal the budget again; returns the adaptive stages whose count changed. */
  private deal(): Running[] {
    const all = [...this.running.values()].sort((a, b) => this.rank(a.id, b.id));
    const movable = (r: Running): boolean => r.mode === 'new' || r.mode === 'adaptive';
    let left = this.options.threads;
    for (const r of all) left -= movable(r) ? 1 : r.assigned;
    const changed: Running[] = [];
    for (const r of all) {
      if (!movable(r)) continue;
      const extra = Math.max(0, Math.min(left, r.max - 1));
      left -= extra;
      const next = 1 + extra;
      if (next !== r.assigned && r.mode === 'adaptive') changed.push(r);
      r.assigned = next;
    }
    return changed;
  }

  private leaseOf(r: Running, waitMs: number): StageLease {
    return {
      id: r.id,
      threads: r.assigned,
      waitMs,
      current: () => r.assigned,
      onChange: (l) => void r.listeners.push(l),
      canUse: (max) => {
        if (r.mode === 'pinned' || !this.running.has(r.id)) return;
        r.mode = 'adaptive';
        r.max = Math.max(1, Math.floor(max));
        this.schedule();
      },
      adopted: (threads) => {
        const first = !r.reported;
        r.reported = true;
        // The first report says what the stage started on (it may use fewer than it was given).
        if (first && r.timeline.length === 1) {
          r.timeline[0] = { atMs: 0, threads };
          return undefined;
        }
        const was = r.timeline.at(-1)?.threads;
        if (was === threads) return undefined;
        r.timeline.push({ atMs: this.now() - r.startedAt, threads });
        return was;
      },
      timeline: () => r.timeline.map((c) => ({ ...c })),
      release: () => {
        if (!this.running.delete(r.id)) return;
        r.listeners.length = 0;
        this.schedule();
      },
    };
  }
}
