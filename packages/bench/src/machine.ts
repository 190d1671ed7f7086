import * as fs from 'node:fs';
import * as os from 'node:os';

export interface MachineInfo {
  /** CPU model name, from /proc/cpuinfo where it exists. */
  cpu: string;
  /** Logical cores this process may use. */
  cores: number;
  node: string;
  os: string;
}

/** The machine a benchmark ran on, as recorded in bench.json. */
export function machineInfo(): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function cpuModel(): string {
  try {
    const text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    // x86 writes 'model name', some ARM kernels only 'Hardware' or 'Processor'.
    for (const key of ['model name', 'Hardware', 'Processor', 'cpu model']) {
      const m = new RegExp(`^${key}\\s*:\\s*(.+)$`, 'm').exec(text);
      if (m && m[1].trim()) return m[1].trim();
    }
  } catch {
    // Not Linux: fall through to what Node reports.
  }
  return os.cpus()[0]?.model?.trim() || 'unknown';
}

/** Peak resident set size of this process so far, in bytes (monotonic over the process life). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}
