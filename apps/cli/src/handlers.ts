import type { StageHandler } from '@cbnn/core';

/**
 * Every stage handler the `cbnn` command knows, as a plain list. Each package exports its
 * handlers as `<camelName>Stage`; add them here (e.g. `bitsliceDatasetStage`).
 */
export function allHandlers(): StageHandler<any>[] {
  return [];
}
