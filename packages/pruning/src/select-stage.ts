import * as fs from 'node:fs';
import * as path from 'node:path';
import { pruningSelectDescriptor } from './stage-descriptors';
import { InvalidInputError, defineStage, writeFileAtomicSync } from '@cbnn/core';
import { readModelFolder, MODEL_INFO_FILE } from './model-folder';
import { CHOSEN_DIR, CONTROL_DIR, SEARCH_FILE, SEARCH_SUMMARY_FILE, writeSearchResult } from './search-format';
import { BASELINE_NAME, searchSummaryMarkdown, selectCompactModel } from './selection';

export { pruningSelectParams } from './stage-descriptors';

/**
 * `pruning.select`: the end of the compact-network search. `candidates` is the folder the runner
 * builds from a matrix (`candidates: search[*]`), one subfolder per instance, each a model.bnn
 * folder; the subfolder name is the candidate's name.
 */
export const pruningSelectStage = defineStage({
  ...pruningSelectDescriptor,
  async run(ctx) {
    // A single model folder (no matrix) is named after its input.
    const models = (input: string) => {
      const dir = ctx.inputs[input];
      if (!dir) return [];
      return listCandidateFolders(dir).map((d) => ({ name: d === dir ? input : path.basename(d), dir: d, model: readModelFolder(d, 'bnn') }));
    };
    const baseline = [...models('baseline'), ...models('baselineSeeds')];
    const candidates = models('candidates');
    const controls = models('controls');
    const fullPrecision = ctx.inputs.fp ? readModelFolder(ctx.inputs.fp, 'fp') : undefined;
    const result = selectCompactModel({ budgetPoints: ctx.params.budgetPoints, baseline, candidates, controls, fullPrecision });
    writeSearchResult(path.join(ctx.outDir, SEARCH_FILE), result);
    writeFileAtomicSync(path.join(ctx.outDir, SEARCH_SUMMARY_FILE), searchSummaryMarkdown(result));
    const folderOf = (instance: string) => [...baseline, ...candidates, ...controls].find((m) => m.name === instance)!.dir;
    fs.cpSync(folderOf(result.chosenInstance), path.join(ctx.outDir, CHOSEN_DIR), { recursive: true });
    if (result.controlInstance) fs.cpSync(folderOf(result.controlInstance), path.join(ctx.outDir, CONTROL_DIR), { recursive: true });
    if (result.chosen === BASELINE_NAME) {
      ctx.logger.warn({ budgetPoints: result.budgetPoints }, 'no candidate is within the validation budget; the baseline is chosen');
    }
    const chosen = result.chosen === BASELINE_NAME ? result.baseline : result.candidates.find((c) => c.name === result.chosen)!;
    ctx.logger.info(
      { chosen: result.chosen, instance: result.chosenInstance, packedBytes: chosen.packedBytes, compression: result.compression, seeds: result.seeds },
      'compact model selected',
    );
    return {
      metrics: {
        chosen: result.chosen,
        candidates: result.candidates.length,
        withinBudget: result.candidates.filter((c) => c.withinBudget).length,
        packedBytes: chosen.packedBytes,
        validationAccuracy: chosen.validationAccuracy,
        testAccuracy: chosen.testAccuracy,
        seeds: chosen.seeds.length,
        controls: result.controls.length,
        compressionVsBaseline: result.compression.vsBaselinePacked,
        compressionVsFullPrecision: result.compression.vsFullPrecisionFloat32,
      },
    };
  },
});

/**
 * The candidate model folders under `dir`, by name. `dir` may itself be a single model folder
 * (a pipeline with one candidate and no matrix); then it is the only candidate.
 */
export function listCandidateFolders(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new InvalidInputError('candidates folder does not exist', { file: dir });
  if (fs.existsSync(path.join(dir, MODEL_INFO_FILE))) return [dir];
  const subdirs = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => path.join(dir, e.name))
    .sort();
  if (subdirs.length === 0) {
    throw new InvalidInputError('candidates folder holds no model folder', { file: dir }, "give pruning.select 'candidates: <matrix stage>[*]'");
  }
  return subdirs;
}
