import * as fs from 'node:fs';

/**
 * CPU seconds (user + system) this process has used so far, plus those of its children that have
 * been waited for (a `cmd:` stage's command). The children's share comes from /proc/self/stat
 * (cutime, cstime); where there is no /proc only this process is counted.
 */
export function processCpuSeconds(): number {
  const own = process.cpuUsage();
  return (own.user + own.system) / 1e6 + childrenCpuSeconds();
}

function childrenCpuSeconds(): number {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): cutime is field 16, cstime 17, in clock ticks (100 per second on Linux).
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return 0;
  }
}
