import type { Command } from 'commander';
import { dagJson, renderDagAscii, renderDagDot, renderDagMermaid } from '@cbnn/pipeline';
import { collect, openPipeline, PIPELINE_ARGUMENT, printJson } from '../context';

export function registerDag(program: Command): void {
  program
    .command('dag')
    .argument('[pipeline]', PIPELINE_ARGUMENT)
    .description('show the stage graph (text, --mermaid, --dot or --json)')
    .option('--mermaid', 'Mermaid flowchart')
    .option('--dot', 'Graphviz dot')
    .option('--set <key=value>', 'override a top-level param; repeatable', collect)
    .option('--json', 'JSON on stdout')
    .action((file: string | undefined, opts: { mermaid?: boolean; dot?: boolean; set?: string[]; json?: boolean }) => {
      const { pipeline } = openPipeline(file, opts);
      if (opts.json) return printJson(dagJson(pipeline));
      const text = opts.mermaid ? renderDagMermaid(pipeline) : opts.dot ? renderDagDot(pipeline) : renderDagAscii(pipeline);
      process.stdout.write(text + '\n');
    });
}
