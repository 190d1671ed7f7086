module.exports = {
  ...require('../../configs/jest.preset.js'),
  rootDir: __dirname,
  // onnxruntime-node returns typed arrays of the main V8 context (see the file).
  testEnvironment: '<rootDir>/test/shared-realm-environment.js',
};
