import type { StageHandler } from '@cbnn/core';
import { bitsliceDatasetStage } from '@cbnn/bitslice';
import { trainBnnStage, trainFpStage } from '@cbnn/train';
import { sensitivityPlanesStage } from '@cbnn/sensitivity';
import { pruningPlanStage, pruningSelectStage } from '@cbnn/pruning';
import { benchRuntimeStage } from '@cbnn/bench';
import { reportHtmlStage } from '@cbnn/report';
import { exportCStage, exportWebStage } from '@cbnn/deploy';

/**
 * Every stage handler the `cbnn` command knows, as a plain list. Each package exports its
 * handlers as `<camelName>Stage`; a new handler is one import and one entry here.
 */
export function allHandlers(): StageHandler<any>[] {
  return [
    bitsliceDatasetStage,
    trainBnnStage,
    trainFpStage,
    sensitivityPlanesStage,
    pruningPlanStage,
    pruningSelectStage,
    benchRuntimeStage,
    reportHtmlStage,
    exportCStage, exportWebStage,
  ];
}
