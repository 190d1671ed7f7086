/** node:path in the page: enough for the modules' path joins (no file system behind them). */
export const sep = '/';
export const join = (...parts: string[]): string =>
  parts
    .filter((p) => p !== '')
    .join('/')
    .replace(/\/+/g, '/');
export const resolve = join;
export const dirname = (p: string): string => p.replace(/\/[^/]*$/, '') || '/';
export const basename = (p: string): string => p.replace(/^.*\//, '');
export const relative = (_from: string, to: string): string => to;
export default { sep, join, resolve, dirname, basename, relative };
