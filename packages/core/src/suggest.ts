/**
 * "Did you mean ...?" for names a user types: stage names, params, handlers, pipeline files.
 * Commander does the same for the CLI's commands and options; this covers the names only cbnn knows.
 */

/** Edit distance (Levenshtein; swapping two neighbours counts as one edit, `dtaa` -> `data`). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidates closest to `word` (case-insensitive), within about a third of its length in
 * edits; a candidate that starts with `word` counts as close too (`sea` -> `search`).
 */
export function nearest(word: string, candidates: Iterable<string>): string[] {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best = Infinity;
  let out: string[] = [];
  for (const c of new Set(candidates)) {
    const lc = c.toLowerCase();
    const dist = lc.startsWith(w) && w.length >= 2 ? 0.5 : editDistance(w, lc);
    if (dist > limit) continue;
    if (dist < best) {
      best = dist;
      out = [c];
    } else if (dist === best) out.push(c);
  }
  return out;
}

/** `did you mean 'data'?` or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>, show: (c: string) => string = (c) => `'${c}'`): string | undefined {
  const near = nearest(word, candidates);
  return near.length ? `did you mean ${near.map(show).join(' or ')}?` : undefined;
}
