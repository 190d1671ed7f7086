module.exports = { ...require('../../configs/jest.preset.js'), rootDir: __dirname };
