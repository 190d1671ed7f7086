import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, type Document, type Node } from 'yaml';
import { InvalidInputError, type ErrorLocation } from '@cbnn/core';

/**
 * A parsed YAML file that remembers where every value came from, so that errors found later
 * (schema, references, handler params) can name the file, line and column.
 */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly text: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  static parse(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    const error = doc.errors[0];
    if (error) {
      const offset = error.pos[0];
      const { line, col } = lines.linePos(offset);
      let message = error.message.split('\n')[0];
      if (error.code === 'DUPLICATE_KEY') {
        const key = /^[^\s:]+/.exec(text.slice(offset))?.[0] ?? '?';
        message = `duplicate key '${key}' (each stage and key may appear once)`;
      }
      throw new InvalidInputError(`YAML syntax error: ${message}`, { file, line, column: col });
    }
    return new YamlSource(file, text, doc, lines);
  }

  toJS(): unknown {
    return this.doc.toJS();
  }

  /**
   * Location of the value at `path` (or of the key itself when `key` is set, e.g. an unknown
   * key). Falls back to the nearest existing parent.
   */
  locate(path: ReadonlyArray<PropertyKey>, key = false): ErrorLocation {
    let node: unknown = this.doc.contents;
    let best: Node | undefined = node as Node | undefined;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) break;
        const last = i === path.length - 1;
        node = last && key ? pair.key : pair.value;
        if (node) best = node as Node;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        if (!node) break;
        best = node as Node;
      } else break;
    }
    const field = fieldOf(path);
    const range = best?.range;
    if (!range) return { file: this.file, field };
    const { line, col } = this.lines.linePos(range[0]);
    return { file: this.file, line, column: col, field };
  }
}

export function fieldOf(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}
