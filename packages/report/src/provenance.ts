import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ReportInput } from './report-input';
import type { Provenance } from './result-schemas';

/**
 * Provenance of this process: git commit (of `cwd`, when it is a git work tree), versions of the
 * report's own packages and Node, and the machine. The CLI may add more (command, pipeline).
 */
export function collectProvenance(options: { cwd?: string } = {}): Provenance {
  const cwd = options.cwd ?? process.cwd();
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined;
    }
  };
  const commit = git(['rev-parse', 'HEAD']);
  const status = commit ? git(['status', '--porcelain', '--untracked-files=no']) : undefined;
  const versions: Record<string, string> = { node: process.version };
  for (const pkg of ['@cbnn/report', 'vega', 'vega-lite', 'vega-embed']) {
    const version = packageVersion(pkg);
    if (version) versions[pkg] = version;
  }
  return {
    gitCommit: commit,
    gitDirty: status === undefined ? undefined : status.length > 0,
    packageVersions: versions,
    machine: machineOfThisProcess(),
  };
}

export function machineOfThisProcess(): NonNullable<Provenance['machine']> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() || os.arch(),
    cores: cpus.length,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function packageVersion(pkg: string): string | undefined {
  try {
    if (pkg === '@cbnn/report') return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version;
    let dir = path.dirname(require.resolve(pkg));
    while (dir !== path.dirname(dir)) {
      const file = path.join(dir, 'package.json');
      if (fs.existsSync(file)) {
        const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (manifest.name === pkg) return manifest.version;
      }
      dir = path.dirname(dir);
    }
  } catch {
    // A version we cannot find is left out rather than guessed.
  }
  return undefined;
}

/**
 * The provenance shown: what the caller gave, completed from the results themselves (training
 * backend and seeds from model-info, the benchmark machine from bench.json).
 */
export function effectiveProvenance(input: ReportInput): Provenance {
  const given = input.provenance ?? {};
  const backends: string[] = [];
  const seeds: Record<string, number> = {};
  const models = [
    ['baseline', input.baseline],
    ['compact', input.compact],
    ['fp', input.fp],
  ] as const;
  for (const [name, info] of models) {
    if (!info) continue;
    backends.push(`${name}: ${info.backend}`);
    seeds[`train ${name}`] = info.seed;
  }
  if (input.dataset) seeds['dataset split'] = input.dataset.seed;
  if (input.sensitivity) seeds['sensitivity'] = input.sensitivity.seed;
  const benchMachine = input.bench?.machine;
  return {
    ...given,
    backend: given.backend ?? (backends.length > 0 ? backends.join('; ') : undefined),
    seeds: Object.keys(seeds).length + Object.keys(given.seeds ?? {}).length > 0 ? { ...seeds, ...given.seeds } : undefined,
    machine: given.machine ?? benchMachine,
  };
}
