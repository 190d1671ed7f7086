// Jest runs each test file in its own V8 context, whose Float32Array is not the one native addons
// use: onnxruntime-node builds its output arrays in the main context, and onnxruntime-common (loaded
// inside the test context) then rejects them (`instanceof Float32Array` fails). This environment
// gives the test context the main context's typed-array constructors, as a plain `node` process has.
const path = require('node:path');

function resolveThrough(chain) {
  let from = __dirname;
  let resolved;
  for (const name of chain) {
    resolved = require.resolve(name, { paths: [from] });
    from = path.dirname(resolved);
  }
  return resolved;
}

// jest-environment-node is a dependency of jest-config, not hoisted by pnpm: reach it through jest.
const { TestEnvironment } = require(resolveThrough(['jest', 'jest-cli', 'jest-config', 'jest-environment-node']));

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class SharedRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = SharedRealmEnvironment;
