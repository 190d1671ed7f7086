/** Number formats shared by the HTML tables and the markdown summary. */

export function formatAccuracy(fraction: number | undefined): string {
  return fraction === undefined ? '—' : `${(fraction * 100).toFixed(2)}%`;
}

/** Signed percentage points, e.g. `-0.42 pts`. */
export function formatPoints(points: number | undefined): string {
  if (points === undefined) return '—';
  const rounded = Math.abs(points) < 0.005 ? 0 : points;
  return `${rounded > 0 ? '+' : ''}${rounded.toFixed(2)} pts`;
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '—';
  const exact = bytes.toLocaleString('en-US');
  if (bytes < 1024) return `${exact} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${exact} B (${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]})`;
}

export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '—';
  return `${ratio.toFixed(ratio < 10 ? 2 : 1)}×`;
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  return ms < 1 ? `${ms.toFixed(3)} ms` : ms < 100 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`;
}

/** `grey b7–b4` for contiguous bits, `grey b7,b5,b1` otherwise; channels joined with `; `. */
export function formatPlaneSelection(selection: Record<string, number[]> | undefined): string {
  if (!selection) return '—';
  return Object.entries(selection)
    .map(([channel, bits]) => {
      const sorted = [...bits].sort((a, b) => b - a);
      const contiguous = sorted.length > 1 && sorted.every((bit, i) => i === 0 || sorted[i - 1] - bit === 1);
      const text = contiguous ? `b${sorted[0]}–b${sorted[sorted.length - 1]}` : sorted.map((b) => `b${b}`).join(',');
      return `${channel} ${text}`;
    })
    .join('; ');
}

export function planeCount(selection: Record<string, number[]> | undefined): number | undefined {
  return selection ? Object.values(selection).reduce((n, bits) => n + bits.length, 0) : undefined;
}
