module.exports = { ...require('../../configs/jest.preset.js'), rootDir: __dirname, testEnvironment: '<rootDir>/test/native-realm-environment.js' };
