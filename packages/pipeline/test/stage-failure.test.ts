import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExitCode, InvalidInputError, StageFailedError } from '@cbnn/core';
import { failedRunExitCode, failureKindOf, markQueueFailure, readRunRecords, unmarkQueueFailure } from '../src';
import { workspace } from './helpers';

describe('invalid input raised inside a stage', () => {
  it('crosses the worker process as an invalid-input failure: message kept, nothing stored, run exit code 3', async () => {
    const ws = workspace(`
name: bad-data
stages:
  data:
    uses: test.bad-data
    with: { file: photos/dog/7.png }
  ok:
    uses: test.write
    with: { text: fine }
`);
    const summary = await ws.run({ keepGoing: true });
    const data = summary.outcomes.find((o) => o.id === 'data')!;
    expect(data.status).toBe('failed');
    expect(data.failure).toBe('invalid-input');
    expect(data.note).toContain('photos/dog/7.png: not a PNG or JPEG image');
    expect(failedRunExitCode(summary.outcomes)).toBe(ExitCode.invalidInput);
    expect(fs.existsSync(path.join(ws.store.root, 'out', 'data'))).toBe(false);
    expect(ws.store.runCache.get(data.key!)).toBeUndefined();
    expect(readRunRecords(ws.store.root).runs.at(-1)?.exitCode).toBe(ExitCode.invalidInput);
  });

  it('is not retried: `retries:` is for crashes, and bad data fails the same way every time', async () => {
    const ws = workspace();
    const counter = path.join(ws.dir, 'attempts');
    ws.write(`
name: bad-data-retries
stages:
  data:
    uses: test.bad-data
    retries: 2
    with: { file: photos/dog/7.png, counter: ${JSON.stringify(counter)} }
`);
    const messages: string[] = [];
    const summary = await ws.run({ reporter: { message: (m: string) => messages.push(m) } });
    expect(summary.outcomes[0]).toMatchObject({ status: 'failed', failure: 'invalid-input', attempts: 1 });
    expect(fs.readFileSync(counter, 'utf8')).toBe('1');
    expect(messages.join('\n')).toContain('data: attempt 1/3 failed on invalid input; not retried');
  });

  it('a stage failing for another reason as well makes it exit 4', async () => {
    const ws = workspace(`
name: mixed
stages:
  data:
    uses: test.bad-data
    with: { file: photos/dog/7.png }
  crash:
    cmd: exit 9
`);
    const summary = await ws.run({ keepGoing: true });
    expect(summary.outcomes.map((o) => `${o.id}:${o.status}:${o.failure ?? '-'}`)).toEqual(['data:failed:invalid-input', 'crash:failed:-']);
    expect(failedRunExitCode(summary.outcomes)).toBe(ExitCode.stageFailed);
    expect(readRunRecords(ws.store.root).runs.at(-1)?.exitCode).toBe(ExitCode.stageFailed);
  });

  it('survives a BullMQ failed reason (a string) and a StageFailedError wrapper', () => {
    const bad = new InvalidInputError('truncated', { file: 'x.npy' });
    expect(failureKindOf(new StageFailedError('data', 'x', bad))).toBe('invalid-input');
    expect(failureKindOf(new StageFailedError('data', 'x', new Error('boom')))).toBeUndefined();
    expect(unmarkQueueFailure(markQueueFailure('x.npy: truncated', bad))).toEqual({ message: 'x.npy: truncated', kind: 'invalid-input' });
    expect(unmarkQueueFailure(markQueueFailure('boom', new Error('boom')))).toEqual({ message: 'boom' });
  });
});
