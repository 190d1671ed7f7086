import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { docCommands, docFiles, words, type DocCommand } from './doc-commands';

/**
 * Every command in the shell blocks of README.md and docs/*.md, run as a user would type it
 * (through bash, from the repository root) against a copy of pipelines/smoke.yaml and a temp
 * store: exit 0 and one fact about its output. The docs are read at test time, so a changed
 * command is checked as it now reads; a command no rule below knows fails the test, naming the
 * file and line. What stands for what:
 *   - `pipelines/*.yaml` -> temp copies; where results are read (report, verify, gc) the demo's
 *     `pipelines/mnist.yaml` -> the smoke pipeline, whose results the temp store holds;
 *   - every `--store` -> the temp store (added where the command has none);
 *   - `cbnn run` -> `cbnn run --dry-run` (checks the pipeline, params and options; runs nothing);
 *   - long-running commands (`worker`, `bench`) -> `--help`, and every flag written must exist;
 *   - `pnpm <script>` -> the script exists (the demo's cbnn command is then checked as above);
 *   - `node <script>` -> the file exists and parses; `redis-server`, compilers, python3 -> installed;
 *     `cd <dir>` -> the folder exists; `npx tsc|nx|jest|eslint` -> the workspace has it.
 */
const ROOT = path.join(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'apps', 'cli', 'dist', 'main.js');
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { packageManager: string; scripts: Record<string, string> };

const commands: DocCommand[] = docFiles(ROOT).flatMap(docCommands);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-readme-'));
const store = path.join(tmp, 'store');

function pipelineCopy(name: string): string {
  const file = path.join(tmp, 'pipelines', name);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'pipelines', name), file);
  }
  return file;
}

/**
 * `pipelines/<name>.yaml` -> a temp copy (lock files land beside the copies, not in the repo).
 * Commands that read results (`smokeForDemo`) get the smoke pipeline for the demo's mnist.yaml:
 * its results are the ones in the temp store. The others check the pipeline as named (its params).
 */
function substitutePipelines(text: string, smokeForDemo: boolean): string {
  return text.replace(
    /(^|\s)pipelines\/([\w.-]+\.ya?ml)/g,
    (_m, pre: string, name: string) => `${pre}${pipelineCopy(smokeForDemo && name === 'mnist.yaml' ? 'smoke.yaml' : name)}`,
  );
}

function withStore(text: string): string {
  return /\s--store\s/.test(text) ? text.replace(/--store\s+("[^"]*"|'[^']*'|\S+)/, `--store ${store}`) : `${text} --store ${store}`;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bashScript(command: string): string {
  return [
    `cbnn() { node ${JSON.stringify(CLI)} "$@"; }`,
    `pnpm() { if [ "$1" = cbnn ]; then shift; node ${JSON.stringify(CLI)} "$@"; else echo "not a cbnn command: pnpm $*" >&2; return 99; fi; }`,
    command,
  ].join('\n');
}

const ENV = { ...process.env, PASS: 's3cret', CBNN_REDIS_URL: '' };

function bash(command: string, timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', bashScript(command)], { cwd: ROOT, env: ENV });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A check: the shell commands it runs, then what it asserts about their results. Commands run
 * up front, a few at a time (each is mostly node start-up), and `mutates` ones (gc) after all others.
 */
interface Check {
  run: string[];
  /** Reads the temp store: runs after the seeding run (the others run alongside it). */
  needsStore?: boolean;
  mutates?: boolean;
  expect(results: Result[]): void;
}

function expectOk(r: Result, what: string): void {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/** `cbnn <sub> [<sub2>] --help`, and every `--flag` the docs write must be one it lists. */
function checkWithHelp(cbnnWords: string[]): Check {
  const end = cbnnWords.findIndex((w) => !/^[a-z]+$/.test(w));
  const subcommand = (end < 0 ? cbnnWords : cbnnWords.slice(0, end)).join(' ');
  return {
    run: [`cbnn ${subcommand} --help`],
    expect: ([r]) => {
      expectOk(r, `cbnn ${subcommand} --help`);
      expect(r.stdout).toMatch(/^Usage: cbnn /);
      for (const flag of cbnnWords.filter((w) => w.startsWith('--'))) expect(r.stdout).toContain(flag.split('=')[0]);
    },
  };
}

/**
 * What each cbnn subcommand must print, run for real against the temp store, and the flags such
 * a run can take. A command with another flag (one another helper documents, say `--run ID`) is
 * checked by --help instead: the temp store cannot satisfy what the flag names.
 */
const FACTS: Record<string, { fact: RegExp; results?: true; flags: string[] }> = {
  status: { fact: /^\d+ of \d+ stages would run$/m, flags: ['--set', '--store', '--json'] },
  dag: { fact: /\breport\b/, flags: ['--mermaid', '--dot', '--set'] },
  why: { fact: /^[\w.=-]+: (run|restore|up-to-date)$/m, flags: ['--set', '--store'] },
  verify: { fact: /objects checked in .*: all intact$/m, results: true, flags: ['--store'] },
  gc: { fact: /^(removed|would remove) \d+ objects/m, results: true, flags: ['--store', '--dry-run'] },
  report: { fact: /\| Compact BNN \|[\s\S]*report: /, results: true, flags: ['--store', '--out', '--title', '--verbose'] },
};

/** Subcommands that take --store (the others must not be given one). */
const TAKES_STORE = new Set(['run', 'status', 'why', 'verify', 'gc', 'report']);

function checkCbnn(text: string): Check {
  const w = words(text.replace(/^pnpm\s+/, ''));
  const sub = w[1];
  const prepared = (t: string, smokeForDemo: boolean): string => {
    const withCopies = substitutePipelines(t, smokeForDemo);
    return TAKES_STORE.has(sub) ? withStore(withCopies) : withCopies;
  };
  if (sub === 'run') {
    // Long: the dry mode loads the pipeline, applies --set and checks every option, runs nothing.
    return {
      run: [prepared(`${text} --dry-run`, false)],
      needsStore: true,
      expect: ([r]) => {
        expectOk(r, text);
        expect(r.stdout).toMatch(/^\d+ of \d+ stages would run$/m);
        expect(r.stdout).toContain('dry run: nothing was');
        expect(r.stdout).not.toContain('s3cret'); // a password in --redis stays hidden
      },
    };
  }
  const known = FACTS[sub];
  const flags = w.filter((x) => x.startsWith('--')).map((f) => f.split('=')[0]);
  // worker, bench, commands without a fact (long, or need a service), or flags a temp store cannot satisfy.
  if (!known || flags.some((f) => !known.flags.includes(f))) return checkWithHelp(w.slice(1));
  return {
    run: [prepared(text, known.results === true)],
    needsStore: TAKES_STORE.has(sub),
    mutates: sub === 'gc',
    expect: ([r]) => {
      expectOk(r, text);
      expect(r.stdout).toMatch(known.fact);
    },
  };
}

const none = (assert: () => void): Check => ({ run: [], expect: assert });

/** Rules in order: the first whose pattern matches a command checks it. */
const RULES: Array<{ pattern: RegExp; check: (text: string, m: RegExpExecArray) => Check }> = [
  {
    pattern: /^(?:npx -y pnpm@([\d.]+)|pnpm) install$/,
    check: (_t, m) =>
      none(() => {
        if (m[1]) expect(PACKAGE.packageManager).toBe(`pnpm@${m[1]}`);
        expect(fs.existsSync(path.join(ROOT, 'pnpm-lock.yaml'))).toBe(true);
      }),
  },
  {
    pattern: /^(?:npx -y pnpm@([\d.]+)|pnpm) (?!cbnn\b)([\w:-]+)$/,
    check: (_t, m) => {
      const script = PACKAGE.scripts[m[2]] ?? '';
      // A script that ends in a cbnn command (the demo) is checked as that command.
      const cli = /node apps\/cli\/dist\/main\.js (.*)$/.exec(script);
      const inner = cli ? checkCbnn(`cbnn ${cli[1]}`) : undefined;
      return {
        run: inner?.run ?? [],
        needsStore: inner?.needsStore,
        expect: (results) => {
          if (m[1]) expect(PACKAGE.packageManager).toBe(`pnpm@${m[1]}`);
          expect(PACKAGE.scripts[m[2]]).toBeDefined();
          inner?.expect(results);
        },
      };
    },
  },
  { pattern: /^(?:pnpm )?cbnn(\s|$)/, check: (t) => checkCbnn(t) },
  {
    pattern: /^node (\S+\.m?js)\b/,
    check: (_t, m) => ({
      run: [`node --check ${JSON.stringify(path.join(ROOT, m[1]))}`],
      expect: ([r]) => {
        expect(fs.existsSync(path.join(ROOT, m[1]))).toBe(true);
        expectOk(r, `node --check ${m[1]}`);
      },
    }),
  },
  {
    // `cd packages/x && ...`: the folder exists (the next command is checked on its own).
    pattern: /^cd (\S+)$/,
    check: (_t, m) => none(() => expect(fs.statSync(path.join(ROOT, m[1])).isDirectory()).toBe(true)),
  },
  {
    // Workspace tools: installed by `pnpm install`.
    pattern: /^npx (nx|tsc|jest|eslint)\b/,
    check: (_t, m) => none(() => expect(fs.existsSync(path.join(ROOT, 'node_modules', '.bin', m[1]))).toBe(true)),
  },
  {
    // Programs of the system (compilers for exported C, Python for a comparison): they need
    // files the docs' own steps make, so only their presence is checked.
    pattern: /^(gcc|clang|cc|python3|hyperfine|redis-cli)\b/,
    check: (_t, m) => ({ run: [`command -v ${m[1]}`], expect: ([r]) => expectOk(r, `command -v ${m[1]}`) }),
  },
  {
    pattern: /^redis-server\b/,
    check: () => ({
      run: ['redis-server --version'],
      expect: ([r]) => {
        expectOk(r, 'redis-server --version');
        expect(r.stdout).toMatch(/Redis server v=/);
      },
    }),
  },
];

const where = (c: DocCommand): string => `${path.relative(ROOT, c.file)}:${c.line}`;

const planned = commands.map((c) => {
  const hit = RULES.map((r) => ({ r, m: r.pattern.exec(c.text) })).find((x) => x.m);
  return { c, check: hit ? hit.r.check(c.text, hit.m!) : undefined, results: [] as Result[] };
});

async function runAll(seed: () => Promise<void>): Promise<void> {
  const pool = async (items: typeof planned, width: number): Promise<void> => {
    const queue = items.flatMap((p) => p.check?.run.map((cmd, i) => ({ p, cmd, i })) ?? []);
    await Promise.all(
      Array.from({ length: width }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) job.p.results[job.i] = await bash(job.cmd);
      }),
    );
  };
  await Promise.all([
    pool(
      planned.filter((p) => !p.check?.needsStore),
      2,
    ),
    seed().then(() =>
      pool(
        planned.filter((p) => p.check?.needsStore && !p.check.mutates),
        3,
      ),
    ),
  ]);
  await pool(
    planned.filter((p) => p.check?.mutates),
    1,
  );
}

describe('the commands of README.md and docs/*.md', () => {
  beforeAll(async () => {
    // Results for status, why, verify, gc and report to read: the smoke pipeline, small subset.
    await runAll(async () => {
      const seed = await bash(`cbnn run ${JSON.stringify(pipelineCopy('smoke.yaml'))} --store ${JSON.stringify(store)} --jobs 2`, 300_000);
      expectOk(seed, 'the smoke run that seeds the temp store');
    });
  }, 400_000);
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('finds the commands (README: the two commands, the pipeline commands, Fashion-MNIST)', () => {
    expect(commands.filter((c) => c.file.endsWith('README.md')).length).toBeGreaterThanOrEqual(10);
    expect(commands.map((c) => c.text)).toContain('npx -y pnpm@12.21.0 demo');
  });

  it.each(planned.map((p) => [`${where(p.c)} ${p.c.text}`, p] as const))('%s', (_name, p) => {
    if (!p.check) throw new Error(`${where(p.c)}: no rule checks '${p.c.text}': add one to apps/cli/test/readme-commands.test.ts`);
    p.check.expect(p.results);
  });
});
