import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidInputError } from '@cbnn/core';
import { readPlanPlanes } from '../src/plan-file';

function planDir(plan: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbnn-plan-file-'));
  fs.writeFileSync(path.join(dir, 'plan.json'), JSON.stringify({ format: 'cbnn.plan', ...plan }));
  return dir;
}

describe('readPlanPlanes', () => {
  const kept = { grey: [7, 6, 5] };

  it('reads the kept planes and the neighbour plane sets a plan records', () => {
    const dir = planDir({ keptPlanes: kept, alternatives: { fewer: { planes: { grey: [7, 6] } }, more: { planes: { grey: [7, 6, 5, 4] } } } });
    expect(readPlanPlanes(dir, 0)).toEqual({ planes: kept, source: 'keptPlanes' });
    expect(readPlanPlanes(dir, 1)).toEqual({ planes: { grey: [7, 6] }, source: 'alternatives.fewer' });
    expect(readPlanPlanes(dir, -1)).toEqual({ planes: { grey: [7, 6, 5, 4] }, source: 'alternatives.more' });
  });

  it('says so when a neighbour plane set is missing and the kept planes are trained instead', () => {
    const dir = planDir({ keptPlanes: kept });
    const fewer = readPlanPlanes(dir, 1);
    expect(fewer.planes).toEqual(kept);
    expect(fewer.source).toBe('keptPlanes (dropExtra 1: the plan has no alternatives.fewer)');
    expect(fewer.fallback).toContain(path.join(dir, 'plan.json'));
    expect(fewer.fallback).toContain('the same planes as dropExtra 0');
    expect(readPlanPlanes(dir, -1).fallback).toContain('it dropped no plane');
    expect(readPlanPlanes(dir, 0).fallback).toBeUndefined();
  });

  it('refuses a file that is not a plan, naming it', () => {
    const dir = planDir({ format: 'cbnn.search', keptPlanes: kept });
    const error = (() => {
      try {
        readPlanPlanes(dir, 0);
      } catch (e) {
        return e as InvalidInputError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error?.message).toContain('expected "cbnn.plan"');
    expect(error?.location.file).toBe(path.join(dir, 'plan.json'));
  });
});
