import { InvalidInputError } from '@cbnn/core';
import { resolvePipeline } from '../src';
import { registry } from './helpers';

function error(yaml: string, set?: string[]): InvalidInputError {
  try {
    resolvePipeline('/x/p.yaml', yaml, { registry, set });
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    return e as InvalidInputError;
  }
  throw new Error('expected the pipeline to be rejected');
}

describe('bad pipeline input', () => {
  it('YAML syntax error: file:line:col', () => {
    const e = error('name: x\nstages:\n  a: { uses: test.write\n  b: 1\n');
    expect(e.userMessage()).toMatch(/^\/x\/p\.yaml:\d+:\d+: YAML syntax error/);
    expect(e.location.line).toBeGreaterThanOrEqual(3);
  });

  it('duplicate stage names: named with their line', () => {
    const e = error('name: x\nstages:\n  a:\n    uses: test.write\n    with: {text: a}\n  a:\n    uses: test.write\n    with: {text: b}\n');
    expect(e.message).toContain("duplicate key 'a'");
    expect(e.location.line).toBe(6);
  });

  it('unknown key: the key, its line and what is allowed', () => {
    const e = error('name: x\nstages:\n  a:\n    uses: test.write\n    wiht: {text: a}\n');
    expect(e.message).toContain("unknown key 'wiht'; did you mean 'with'? (allowed: ");
    expect(e.location).toMatchObject({ line: 5, column: 5, field: 'stages.a.wiht' });
  });

  it('unknown handler', () => {
    const e = error('name: x\nstages:\n  a:\n    uses: nope.handler\n');
    expect(e.message).toContain("unknown handler 'nope.handler'");
    expect(e.location).toMatchObject({ line: 4, field: 'stages.a.uses' });
    expect(e.hint).toContain('test.write');
  });

  it('wrong param type: the zod path', () => {
    const e = error('name: x\nstages:\n  a:\n    uses: test.write\n    with:\n      text: a\n      sleepMs: fast\n');
    expect(e.location).toMatchObject({ line: 7, field: 'stages.a.with.sleepMs' });
    expect(e.message).toMatch(/expected number/);
  });

  it('a whole-string ${params.x} keeps its type; --set parses YAML; wrong types still caught', () => {
    const ok = resolvePipeline(
      '/x/p.yaml',
      'name: x\nparams: {ms: 5}\nstages:\n  a: {uses: test.write, with: {text: "t${params.ms}", sleepMs: "${params.ms}"}}\n',
      { registry, set: ['ms=7'] },
    );
    expect(ok.byId.get('a')!.params).toMatchObject({ text: 't7', sleepMs: 7 });
    const e = error('name: x\nparams: {ms: 5}\nstages:\n  a: {uses: test.write, with: {text: t, sleepMs: "${params.ms}"}}\n', ['ms=slow']);
    expect(e.location.field).toBe('stages.a.with.sleepMs');
    expect(error('name: x\nparams: {ms: 5}\nstages:\n  a: {uses: test.write, with: {text: t}}\n', ['nope=1']).message).toContain("no param 'nope'");
    expect(error('name: x\nstages:\n  a: {uses: test.write, with: {text: "${params.missing}"}}\n').message).toContain('params.missing');
  });

  it("a cmd stage's deps naming another stage's outs (the DVC habit): refused at load time with the fix", () => {
    const producer = 'name: x\nstages:\n  a:\n    cmd: echo A > $CBNN_OUT_DIR/a.txt\n    outs: [a.txt]\n  b:\n    cmd: cat a.txt > $CBNN_OUT_DIR/b.txt\n';
    const e = error(`${producer}    deps: [gen.sh, ./a.txt]\n`);
    expect(e.location).toMatchObject({ line: 8, field: 'stages.b.deps[1]' });
    expect(e.message).toBe(
      "stage 'b': dep './a.txt' is an output of stage 'a'. A stage's outputs live in the artifact store, not in the project folder, so deps: (project files hashed into the key) cannot name them",
    );
    expect(e.hint).toBe("take it as an input instead: give stage 'b' `needs: { a: a }`, read `${inputs.a}/a.txt` in its cmd, and drop './a.txt' from deps:");
    // Where the store shows the output: .cbnn/out/<stage>/<file>.
    expect(error(`${producer}    deps: [.cbnn/out/a/a.txt]\n`).hint).toContain('`${inputs.a}/a.txt`');
    // A dep that no stage outputs is an ordinary project file.
    expect(() => resolvePipeline('/x/p.yaml', `${producer}    deps: [b.txt]\n`, { registry })).not.toThrow();
  });

  it('a mistyped param, handler, input or stage gets the nearest name', () => {
    expect(error('name: x\nparams: {epochs: 3}\nstages:\n  a: {uses: test.write, with: {text: a}}\n', ['epoch=4']).message).toBe(
      "--set epoch: the pipeline has no param 'epoch'; did you mean 'epochs'?",
    );
    expect(error('name: x\nstages:\n  a: {uses: test.wrtie, with: {text: a}}\n').message).toBe(
      "stage 'a': unknown handler 'test.wrtie'; did you mean 'test.write'?",
    );
    expect(error('name: x\nstages:\n  w: {uses: test.write, with: {text: a}}\n  c: {uses: test.concat, needs: {a: ww}}\n').message).toContain(
      "needs stage 'ww', which the pipeline does not define; did you mean 'w'?",
    );
    expect(error('name: x\nstages:\n  w: {uses: test.write, with: {text: a}}\n  c: {uses: test.concat, needs: {a: w, bb: w}}\n').message).toContain(
      "has no input 'bb'; did you mean 'b'?",
    );
    expect(error('name: x\nstages:\n  a: {uses: test.concat, needs: {a: ghost}}\n').message).not.toContain('did you mean');
  });

  it('cycle: named a -> b -> a', () => {
    const e = error('name: x\nstages:\n  a: {uses: test.concat, needs: {a: b}}\n  b: {uses: test.concat, needs: {a: a}}\n');
    expect(e.message).toMatch(/cycle: (a -> b -> a|b -> a -> b)/);
  });

  it('missing stage reference: stage and key', () => {
    const e = error('name: x\nstages:\n  a: {uses: test.concat, needs: {a: ghost}}\n');
    expect(e.message).toContain("input 'a' needs stage 'ghost'");
    expect(e.location).toMatchObject({ line: 3, field: 'stages.a.needs.a' });
  });

  it('missing required input and unknown input names', () => {
    expect(error('name: x\nstages:\n  w: {uses: test.write, with: {text: a}}\n  a: {uses: test.concat, needs: {b: w}}\n').message).toContain(
      "requires input 'a'",
    );
    expect(error('name: x\nstages:\n  w: {uses: test.write, with: {text: a}}\n  a: {uses: test.concat, needs: {a: w, zz: w}}\n').location.field).toBe(
      'stages.a.needs.zz',
    );
  });

  it('matrix references must say [*] or an instance', () => {
    const yaml =
      'name: x\nstages:\n  m: {uses: test.write, matrix: {text: [a, b]}, with: {text: "${matrix.text}"}}\n  c: {uses: test.collect, needs: {all: m}}\n';
    expect(error(yaml).message).toContain("use 'm[*]'");
    const ok = resolvePipeline('/x/p.yaml', yaml.replace('all: m}', 'all: "m[*]"}'), { registry });
    expect(ok.instances.map((i) => i.id)).toEqual(['m-a', 'm-b', 'c']);
  });

  it('a seed list (any matrix axis) that is empty or repeats a value is refused, naming the field', () => {
    const yaml = (seeds: string) =>
      `name: x\nparams:\n  seeds: ${seeds}\nstages:\n  m: {uses: test.write, matrix: {seed: "\${params.seeds}"}, with: {text: "s\${matrix.seed}"}}\n`;
    const repeated = error(yaml('[1, 2, 1]'));
    expect(repeated.location.field).toBe('stages.m.matrix.seed');
    expect(repeated.message).toContain("matrix axis 'seed' lists 1 twice");
    const empty = error(yaml('[]'));
    expect(empty.location.field).toBe('stages.m.matrix.seed');
    expect(empty.message).toContain('a matrix axis needs at least one value');
    expect(resolvePipeline('/x/p.yaml', yaml('[1, 2, 3]'), { registry }).instances.map((i) => i.id)).toEqual(['m-1', 'm-2', 'm-3']);
  });

  it('a stage with both uses and cmd, and deps on a handler stage', () => {
    expect(error('name: x\nstages:\n  a: {uses: test.write, cmd: "true"}\n').message).toContain('exactly one of');
    expect(error('name: x\nstages:\n  a: {uses: test.write, deps: [f]}\n').location.field).toBe('stages.a.deps');
  });
});
