#!/usr/bin/env node
// The tests need programs from Debian's packages: redis-server (distributed executor), chromium
// (the report's and the web export's browser tests), gcc and clang (the C export's tests). Install them when missing and we are root; otherwise say
// exactly what to install. Reaches only Debian's package mirrors.
import { execSync, spawnSync } from 'node:child_process';

const needed = [
  { bin: 'redis-server', pkg: 'redis-server' },
  { bin: 'chromium', pkg: 'chromium' },
  // The C export's tests build the generated library with both compilers.
  { bin: 'gcc', pkg: 'gcc' },
  { bin: 'clang', pkg: 'clang' },
];
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const missing = needed.filter((n) => !has(n.bin));
if (missing.length === 0) process.exit(0);
const pkgs = missing.map((m) => m.pkg).join(' ');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !has('apt-get')) {
  console.error(`cbnn tests need: ${pkgs}. Install them with: sudo apt-get update && sudo apt-get install -y ${pkgs}`);
  process.exit(1);
}
console.error(`installing ${pkgs} from Debian's packages...`);
execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkgs}`, { stdio: 'inherit' });
