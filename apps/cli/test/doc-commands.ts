import * as fs from 'node:fs';
import * as path from 'node:path';

/** A command as the docs show it, with where it was found. */
export interface DocCommand {
  /** As written, continuation lines joined, the trailing comment dropped. */
  text: string;
  file: string;
  line: number;
}

const SHELL_FENCE = /^```(sh|bash|shell|console)\s*$/;

/**
 * Every command in the shell code blocks (```sh, bash, shell, console) of a markdown file: one
 * per line, `\` continuations joined, `#` comments dropped, `a && b` split into two commands.
 */
export function docCommands(file: string): DocCommand[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: DocCommand[] = [];
  let inShell = false;
  let inOther = false;
  let pending: { text: string; line: number } | undefined;
  lines.forEach((raw, i) => {
    if (!inShell && !inOther && raw.startsWith('```')) {
      if (SHELL_FENCE.test(raw)) inShell = true;
      else inOther = true;
      return;
    }
    if (raw.startsWith('```')) {
      inShell = inOther = false;
      return;
    }
    if (!inShell) return;
    const line = stripComment(raw.replace(/^\s*\$\s+/, '')).trimEnd();
    const continued = line.endsWith('\\');
    const piece = continued ? line.slice(0, -1) : line;
    pending = pending ? { text: `${pending.text} ${piece.trim()}`, line: pending.line } : { text: piece.trim(), line: i + 1 };
    if (continued) return;
    for (const part of splitAnd(pending.text)) if (part) out.push({ text: part, file, line: pending.line });
    pending = undefined;
  });
  return out;
}

/** Drops a `# comment` that starts outside quotes after whitespace (or at the start). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
  }
  return line;
}

function splitAnd(text: string): string[] {
  return text.split(/\s+&&\s+/).map((s) => s.trim());
}

/** The README and every docs/*.md of the repository. */
export function docFiles(root: string): string[] {
  const docs = path.join(root, 'docs');
  const inDocs = fs.existsSync(docs)
    ? fs
        .readdirSync(docs)
        .filter((f) => f.endsWith('.md'))
        .sort()
        .map((f) => path.join(docs, f))
    : [];
  return [path.join(root, 'README.md'), ...inDocs];
}

/** Words of a command, quotes removed (enough to find its flags). */
export function words(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}
