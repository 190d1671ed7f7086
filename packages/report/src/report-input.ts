import * as fs from 'node:fs';
import * as path from 'node:path';
import { BENCH_FILE } from '@cbnn/bench/bench-format';
import { PLAN_FILE } from '@cbnn/pruning/plan-format';
import { CHOSEN_DIR, SEARCH_FILE } from '@cbnn/pruning/search-format';
import { SENSITIVITY_FILE } from '@cbnn/sensitivity/sensitivity-format';
import { MODEL_INFO_FILE } from '@cbnn/train/model-info';
import { readDatasetManifest, type DatasetManifest } from '@cbnn/core';
import { readResultFile } from './read-result-file';
import {
  benchResultSchema,
  modelInfoSchema,
  pipelineDagSchema,
  planResultSchema,
  provenanceSchema,
  searchResultSchema,
  sensitivityResultSchema,
  type BenchResult,
  type ModelInfo,
  type PipelineDag,
  type PlanResult,
  type Provenance,
  type SearchResult,
  type SensitivityResult,
} from './result-schemas';
import { parseOrThrow } from '@cbnn/core';

/** Everything the report can show. Every part is optional; the report names the missing ones. */
export interface ReportInput {
  title?: string;
  /** ISO time stamp printed in the header; defaults to now (tests pass a fixed one). */
  generatedAt?: string;
  sensitivity?: SensitivityResult;
  plan?: PlanResult;
  search?: SearchResult;
  bench?: BenchResult;
  baseline?: ModelInfo;
  fp?: ModelInfo;
  /** The chosen compact model's info (`search/chosen/model-info.json`). */
  compact?: ModelInfo;
  dataset?: DatasetManifest;
  dag?: PipelineDag;
  provenance?: Provenance;
}

/** Artifact folders, by the report stage's input names. */
export interface ReportFolders {
  sensitivity?: string;
  plan?: string;
  search?: string;
  bench?: string;
  baseline?: string;
  fp?: string;
  /** A compact model folder; defaults to `<search>/chosen` when that exists. */
  compact?: string;
  dataset?: string;
}

export interface ReportExtras {
  title?: string;
  dag?: PipelineDag;
  provenance?: Provenance;
  generatedAt?: string;
}

/** The file names are their producers' (each package's light format subpath). */
export const RESULT_FILES = {
  sensitivity: SENSITIVITY_FILE,
  plan: PLAN_FILE,
  search: SEARCH_FILE,
  bench: BENCH_FILE,
  modelInfo: MODEL_INFO_FILE,
  searchChosenDir: CHOSEN_DIR,
} as const;

/**
 * Read and validate the result files of the given artifact folders. A folder that is given must
 * hold its file: a missing or malformed file throws an InvalidInputError naming file and field.
 */
export function loadReportInput(folders: ReportFolders, extra: ReportExtras = {}): ReportInput {
  const input: ReportInput = {
    title: extra.title,
    generatedAt: extra.generatedAt,
    dag: extra.dag === undefined ? undefined : parseOrThrow(pipelineDagSchema, extra.dag, 'pipeline DAG', { fieldPrefix: 'dag' }),
    provenance: extra.provenance === undefined ? undefined : parseOrThrow(provenanceSchema, extra.provenance, 'provenance', { fieldPrefix: 'provenance' }),
  };
  if (folders.sensitivity) {
    input.sensitivity = readResultFile(path.join(folders.sensitivity, RESULT_FILES.sensitivity), sensitivityResultSchema, 'sensitivity.json');
  }
  if (folders.plan) input.plan = readResultFile(path.join(folders.plan, RESULT_FILES.plan), planResultSchema, 'plan.json');
  if (folders.search) input.search = readResultFile(path.join(folders.search, RESULT_FILES.search), searchResultSchema, 'search.json');
  if (folders.bench) input.bench = readResultFile(path.join(folders.bench, RESULT_FILES.bench), benchResultSchema, 'bench.json');
  if (folders.baseline) input.baseline = readModelInfo(folders.baseline);
  if (folders.fp) input.fp = readModelInfo(folders.fp);
  const compactDir = folders.compact ?? chosenDirOf(folders.search);
  if (compactDir) input.compact = readModelInfo(compactDir);
  if (folders.dataset) input.dataset = readDatasetManifest(folders.dataset);
  return input;
}

function readModelInfo(dir: string): ModelInfo {
  return readResultFile(path.join(dir, RESULT_FILES.modelInfo), modelInfoSchema, 'model-info.json');
}

/** `<search>/chosen` when the search copied the chosen model's folder there with its info. */
function chosenDirOf(searchDir: string | undefined): string | undefined {
  if (!searchDir) return undefined;
  const dir = path.join(searchDir, RESULT_FILES.searchChosenDir);
  return fs.existsSync(path.join(dir, RESULT_FILES.modelInfo)) ? dir : undefined;
}
