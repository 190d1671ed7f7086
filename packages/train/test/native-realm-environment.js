// Jest's node environment, with the outer realm's Float32Array. Each test file runs in its own
// vm context with its own typed array constructors, but onnxruntime-node's native binding makes
// its output arrays in the outer realm, and onnxruntime-common's Tensor then rejects them
// ("A float32 tensor's data must be type of Float32Array"). Outside jest there is one realm.
const path = require('node:path');
const from = (pkg, dir) => path.dirname(require.resolve(`${pkg}/package.json`, { paths: [dir] }));
const jestConfig = ['jest', 'jest-cli', '@jest/core', 'jest-config'].reduce((dir, pkg) => from(pkg, dir), __dirname);
const { TestEnvironment } = require(require.resolve('jest-environment-node', { paths: [jestConfig] }));

class NativeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.Float32Array = Float32Array;
  }
}

module.exports = NativeRealmEnvironment;
