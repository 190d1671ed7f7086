module.exports = { ...require('../../configs/jest.preset.js'), rootDir: __dirname, globalSetup: '<rootDir>/jest.global-setup.js' };
