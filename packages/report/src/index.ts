export { buildReport, DEFAULT_TITLE, type BuiltReport } from './build-report';
export { loadReportInput, RESULT_FILES, type ReportInput, type ReportFolders, type ReportExtras } from './report-input';
export { reportHtmlStage, reportHtmlParamsSchema, REPORT_HTML, REPORT_SUMMARY, type ReportHtmlParams } from './report-stage';
export { readResultFile } from './read-result-file';
export { collectProvenance, effectiveProvenance } from './provenance';
export { buildResultsRows, MODEL_NAMES, type ResultsRow } from './results-table';
export { missingParts, type MissingPart } from './missing-parts';
export { planCharts, type ChartSpec } from './charts';
export { renderDag } from './dag-render';
export { escapeHtml } from './html-escape';
export * from './result-schemas';
export {
  buildExpPlot,
  sizeAccuracyChart,
  groupConfigs,
  paretoFront,
  runLabel,
  type ExpPlotInput,
  type ExpPlotRun,
  type BuiltExpPlot,
  type PlotValue,
} from './exp-plot';
export { chartPage, type PageChart } from './chart-page';
