import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CbnnError, ExitCode, sha256Hex } from '@cbnn/core';
import type { ResolvedPipeline } from '../pipeline-loader';
import type { StageOutcome } from '../run-reporter';
import { newRunId, RECORDED_RUN_FORMAT, RUN_NAME_PATTERN, type RecordedRun, type RecordedStage } from './run-record-format';
import { failedRunExitCode } from '../stage-failure';
import { writeRunRecord } from './run-record-store';

const MAX_RECORDED_TEXT = 1000;

/** What the caller (the CLI) knows about a run that the runner does not. */
export interface RunRecordOptions {
  /** `--name`: a label to find the run by (`cbnn exp show NAME`). */
  name?: string;
  /** The command line, for the record. */
  command?: string;
}

interface GitState {
  commit: string;
  dirty: boolean;
}

/**
 * Collects a run's facts while it runs and writes its record at the end. Started when the run
 * starts, so the git queries (child processes) overlap the run instead of adding to it.
 */
export class RunRecorder {
  readonly id: string;
  private readonly startedAt = new Date();
  private readonly pipelineHash: string;
  private readonly git: Promise<GitState | undefined>;
  private gitState?: GitState;

  constructor(
    private readonly pipeline: ResolvedPipeline,
    private readonly storeRoot: string,
    private readonly executor: { name: string; jobs: number },
    private readonly options: RunRecordOptions = {},
  ) {
    if (options.name !== undefined && !RUN_NAME_PATTERN.test(options.name)) {
      throw new CbnnError('usage', `--name '${options.name}': expected letters, digits, '.', '_', '+' or '-' (at most 64, starting with a letter or digit)`, {
        exitCode: ExitCode.usage,
      });
    }
    this.id = newRunId(this.startedAt);
    this.pipelineHash = hashFileOrEmpty(pipeline.file);
    this.git = gitState(pipeline.dir);
  }

  /** Resolves when the facts gathered beside the run (git) are in; `finish` needs them. */
  async ready(): Promise<void> {
    this.gitState = await this.git;
  }

  /** Build and write the record (call `ready()` first). A record that cannot be written never fails the run. */
  finish(
    outcomes: readonly StageOutcome[],
    keys: ReadonlyMap<string, { material: object }>,
    cancelled: boolean,
  ): { record: RecordedRun; file?: string; error?: string } {
    const ended = new Date();
    const stages = outcomes.map((o) => this.stageOf(o, keys.get(o.id)?.material));
    const failed = outcomes.some((o) => o.status === 'failed' || o.status === 'skipped');
    const status: RecordedRun['status'] = cancelled ? 'cancelled' : failed ? 'failed' : 'ok';
    const count = (s: StageOutcome['status'][]) => outcomes.filter((o) => s.includes(o.status)).length;
    const cpus = os.cpus();
    const git = this.gitState;
    const record: RecordedRun = {
      format: RECORDED_RUN_FORMAT,
      id: this.id,
      name: this.options.name,
      pipeline: { name: this.pipeline.name, file: this.pipeline.file, hash: this.pipelineHash },
      params: this.pipeline.params,
      command: this.options.command,
      git,
      startedAt: this.startedAt.toISOString(),
      endedAt: ended.toISOString(),
      durationMs: ended.getTime() - this.startedAt.getTime(),
      status,
      complete: this.pipeline.instances.every((i) => stages.some((s) => s.id === i.id && (s.status === 'ran' || s.status === 'cached'))),
      exitCode: status === 'ok' ? ExitCode.ok : status === 'cancelled' ? ExitCode.cancelled : failedRunExitCode(outcomes),
      counts: { executed: count(['ran']), cached: count(['cached']), failed: count(['failed']), skipped: count(['skipped', 'cancelled']) },
      machine: {
        hostname: os.hostname(),
        cpu: cpus[0]?.model?.trim() || os.arch(),
        cores: cpus.length,
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        node: process.version,
      },
      executor: { ...this.executor, workers: [...new Set(stages.flatMap((s) => (s.worker ? [s.worker] : [])))].sort() },
      store: this.storeRoot,
      stages,
    };
    try {
      return { record, file: writeRunRecord(this.storeRoot, record) };
    } catch (e) {
      return { record, error: (e as Error).message };
    }
  }

  private stageOf(o: StageOutcome, material: object | undefined): RecordedStage {
    const inst = this.pipeline.byId.get(o.id);
    return {
      id: o.id,
      stage: o.stage,
      handler: inst?.handler?.name,
      matrix: inst?.matrix,
      needs: Object.fromEntries(Object.entries(inst?.needs ?? {}).map(([name, n]) => [name, n.instances])),
      status: o.status,
      key: o.key,
      material: material as Record<string, unknown> | undefined,
      wallSeconds: o.durationMs / 1000,
      cpuSeconds: o.cpuSeconds,
      attempts: o.attempts,
      output: o.output,
      log: o.log,
      metrics: o.metrics && recordableMetrics(o.metrics),
      worker: o.worker,
      note: o.note,
      waitSeconds: o.waitMs === undefined ? undefined : o.waitMs / 1000,
      threads: o.threads?.map((c) => ({ atSeconds: c.atMs / 1000, threads: c.threads })),
    };
  }
}

/**
 * Metrics as the stage reported them, except long texts (the report's markdown summary): they
 * are in the stage's output, and would make every record, and every `exp show`, several times
 * larger for nothing one compares.
 */
function recordableMetrics(metrics: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => !(typeof v === 'string' && v.length > MAX_RECORDED_TEXT)));
}

/** A `.git` (folder, or file of a linked work tree) in `dir` or a parent. */
function insideGitWorkTree(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return true;
    if (path.dirname(d) === d) return false;
  }
}

function hashFileOrEmpty(file: string): string {
  try {
    return sha256Hex(fs.readFileSync(file));
  } catch {
    return sha256Hex('');
  }
}

/**
 * Commit and dirty state of the work tree holding `dir`, from one `git status` (porcelain v2 names
 * the commit in its header); undefined outside git, without git, or before the first commit.
 * Untracked files do not count as dirty; `--no-optional-locks` keeps git from rewriting the index.
 */
function gitState(dir: string): Promise<GitState | undefined> {
  if (!insideGitWorkTree(dir)) return Promise.resolve(undefined); // no git process to start
  return new Promise((resolve) => {
    execFile(
      'git',
      ['--no-optional-locks', 'status', '--porcelain=v2', '--branch', '--untracked-files=no'],
      { cwd: dir, timeout: 5000, encoding: 'utf8' },
      (err, stdout) => {
        if (err) return resolve(undefined);
        const lines = stdout.split('\n').filter(Boolean);
        const commit = /^# branch\.oid ([0-9a-f]{7,64})$/m.exec(stdout)?.[1];
        resolve(commit ? { commit, dirty: lines.some((l) => !l.startsWith('#')) } : undefined);
      },
    );
  });
}
