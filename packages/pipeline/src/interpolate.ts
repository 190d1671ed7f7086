/**
 * `${params.x}` / `${matrix.x}` substitution in every string of a value. A string that is exactly
 * one placeholder takes the referenced value with its type (`epochs: ${params.epochs}` stays a
 * number); placeholders inside longer strings are replaced by their text. Namespaces absent from
 * the scope are left untouched for a later pass (matrix values are known only at fan-out).
 */
export type InterpolationScope = Partial<Record<'params' | 'matrix', Record<string, unknown>>>;

const WHOLE = /^\$\{(params|matrix)\.([A-Za-z0-9_.-]+)\}$/;
const ANY = /\$\{(params|matrix)\.([A-Za-z0-9_.-]+)\}/g;

export class MissingPlaceholderError extends Error {
  constructor(
    readonly path: PropertyKey[],
    readonly placeholder: string,
    readonly known: string[],
  ) {
    super(`'\${${placeholder}}' is not defined${known.length ? ` (known: ${known.join(', ')})` : ''}`);
  }
}

export function interpolate(value: unknown, scope: InterpolationScope, path: PropertyKey[] = []): unknown {
  if (typeof value === 'string') return interpolateString(value, scope, path);
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, scope, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, scope, [...path, k]);
    return out;
  }
  return value;
}

function interpolateString(text: string, scope: InterpolationScope, path: PropertyKey[]): unknown {
  const whole = WHOLE.exec(text);
  if (whole) {
    const ns = whole[1] as 'params' | 'matrix';
    if (!scope[ns]) return text;
    return lookup(scope[ns], whole[2], `${ns}.${whole[2]}`, path);
  }
  return text.replace(ANY, (match, ns: 'params' | 'matrix', name: string) => {
    if (!scope[ns]) return match;
    const v = lookup(scope[ns], name, `${ns}.${name}`, path);
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

function lookup(table: Record<string, unknown>, dotted: string, placeholder: string, path: PropertyKey[]): unknown {
  let cur: unknown = table;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in cur)) {
      throw new MissingPlaceholderError(path, placeholder, Object.keys(table));
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
