import * as path from 'node:path';
import { InvalidInputError } from '@cbnn/core';
import type { StageInstance } from './pipeline-loader';
import type { YamlSource } from './yaml-source';

const norm = (p: string): string => path.posix.normalize(p.replace(/\\/g, '/')).replace(/^\.\//, '');

/**
 * A `cmd:` stage whose `deps:` names another stage's output, as in DVC (`deps: [a.txt]` with
 * `outs: [a.txt]` upstream, or a path under `out/<stage>/`). In cbnn outputs live in the store,
 * not the project folder, so such a dep would either not exist or hash a stale copy, and the
 * stage would not wait for its producer. Refused when the pipeline loads, naming the fix.
 */
export function checkDepsAreNotOutputs(source: YamlSource, instances: readonly StageInstance[]): void {
  const producers = new Map<string, { inst: StageInstance; out: string }>();
  for (const inst of instances) for (const out of inst.outs) producers.set(norm(out), { inst, out: norm(out) });
  const byId = new Map(instances.map((i) => [i.id, i]));
  for (const inst of instances) {
    inst.deps.forEach((dep, i) => {
      const d = norm(dep);
      let hit = producers.get(d);
      // `out/<stage>/<file>` or `.cbnn/out/<stage>/<file>`: where the store shows a stage's output.
      const shown = /^(?:.*\/)?out\/([^/]+)\/(.+)$/.exec(d);
      if (!hit && shown && byId.has(shown[1])) hit = { inst: byId.get(shown[1])!, out: shown[2] };
      if (!hit || hit.inst.id === inst.id) return;
      const from = hit.inst.id;
      throw new InvalidInputError(
        `stage '${inst.id}': dep '${dep}' is an output of stage '${from}'. A stage's outputs live in the artifact store, not in the project folder, so deps: (project files hashed into the key) cannot name them`,
        { ...source.locate(['stages', inst.stage, 'deps', i]), field: `stages.${inst.stage}.deps[${i}]` },
        `take it as an input instead: give stage '${inst.stage}' \`needs: { ${from}: ${from} }\`, read \`\${inputs.${from}}/${hit.out}\` in its cmd, and drop '${dep}' from deps:`,
      );
    });
  }
}
