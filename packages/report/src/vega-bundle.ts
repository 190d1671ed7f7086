import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The browser (UMD) builds of Vega, Vega-Lite and vega-embed, read from the installed packages
 * so the report is one self-contained file that renders offline. The packages' `exports` hide
 * their build folders, so each is found beside the resolved entry point.
 */
const BUILDS = [
  { pkg: 'vega', file: 'vega.min.js' },
  { pkg: 'vega-lite', file: 'vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'vega-embed.min.js' },
] as const;

let cached: string[] | undefined;

export function vegaBrowserScripts(): string[] {
  cached ??= BUILDS.map(({ pkg, file }) => {
    const location = path.join(packageRoot(pkg), 'build', file);
    if (!fs.existsSync(location)) {
      throw new Error(`the browser build of '${pkg}' is missing at ${location}; reinstall the report package's dependencies`);
    }
    return safeInlineScript(fs.readFileSync(location, 'utf8'));
  });
  return cached;
}

function packageRoot(pkg: string): string {
  let dir = path.dirname(require.resolve(pkg));
  while (dir !== path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === pkg) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the package folder of '${pkg}'`);
}

/**
 * Make minified code safe inside an inline <script>: drop the source map comment (the .map file
 * is not beside the report) and break any `</script` so the HTML parser cannot end the element
 * early (`<\/script` means the same inside JS strings and regexes).
 */
function safeInlineScript(code: string): string {
  return code
    .replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n')
    .replace(/<\/script/gi, '<\\/script')
    .replace(/<!--/g, '<\\!--');
}
