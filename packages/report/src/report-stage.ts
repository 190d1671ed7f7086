import * as path from 'node:path';
import { defineStage, writeFileAtomicSync } from '@cbnn/core';
import { buildReport } from './build-report';
import { collectProvenance } from './provenance';
import { loadReportInput, type ReportFolders } from './report-input';
import { reportHtmlDescriptor } from './stage-descriptors';

export { reportHtmlParamsSchema, type ReportHtmlParams } from './stage-descriptors';

export const REPORT_HTML = 'report.html';
export const REPORT_SUMMARY = 'summary.md';

const FOLDER_INPUTS = ['sensitivity', 'plan', 'search', 'bench', 'baseline', 'fp', 'compact', 'dataset'] as const;

export const reportHtmlStage = defineStage({
  ...reportHtmlDescriptor,
  async run(ctx) {
    const folders: ReportFolders = {};
    for (const name of FOLDER_INPUTS) if (ctx.inputs[name]) folders[name] = ctx.inputs[name];
    const collected = ctx.params.collectProvenance ? collectProvenance() : undefined;
    const given = ctx.params.provenance;
    const provenance =
      collected || given ? { ...collected, ...given, packageVersions: { ...collected?.packageVersions, ...given?.packageVersions } } : undefined;
    const input = loadReportInput(folders, { title: ctx.params.title, dag: ctx.params.dag, provenance });
    const { html, markdown } = buildReport(input);
    writeFileAtomicSync(path.join(ctx.outDir, REPORT_HTML), html);
    writeFileAtomicSync(path.join(ctx.outDir, REPORT_SUMMARY), markdown);
    ctx.logger.info({ file: REPORT_HTML, bytes: Buffer.byteLength(html), inputs: Object.keys(folders) }, 'report written');
    return { metrics: { summary: markdown, htmlBytes: Buffer.byteLength(html), inputs: Object.keys(folders).join(',') } };
  },
});
