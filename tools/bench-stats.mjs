// Median, min and max of repeated timings, and the one-line form the benchmark tools print.
export function stat(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s.at(-1) };
}

export function formatTimings(label, xs, digits = 0) {
  const { median, min, max } = stat(xs);
  return `${label}: median ${median.toFixed(digits)} ms (min ${min.toFixed(digits)}, max ${max.toFixed(digits)}, n=${xs.length})`;
}
