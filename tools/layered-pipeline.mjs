// The generated pipeline of the cached-run benchmarks: `stages` cmd stages in a layered DAG, each
// stage after the first five reading two earlier ones. Returns the pipeline file written in `dir`.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function writeLayeredPipeline(dir, stages) {
  const lines = ['name: bench', 'params:', '  size: 1000', 'stages:'];
  for (let i = 0; i < stages; i++) {
    const needs = i < 5 ? '' : `\n    needs: { a: s${i - 5}, b: s${Math.floor(i / 2)} }`;
    const body =
      (i < 5
        ? `head -c \${params.size} /dev/zero | tr '\\\\0' x > \${outDir}/v.txt`
        : `cat \${inputs.a}/v.txt \${inputs.b}/v.txt | head -c 4000 > \${outDir}/v.txt`) + `; echo s${i} >> \${outDir}/v.txt`;
    lines.push(`  s${i}:\n    cmd: ${JSON.stringify(body)}${needs}\n    outs: [v.txt]`);
  }
  const file = path.join(dir, 'bench.yaml');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
