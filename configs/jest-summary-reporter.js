// Writes each package's test counts to <package>/test-results.json so that
// tools/test-summary.mjs can print one closing line for the whole workspace
// (also when Nx restores a test run from its cache: the file is a declared output).
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }
  onRunComplete(_contexts, results) {
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests,
      skipped: results.numPendingTests + results.numTodoTests,
      suitesFailed: results.numFailedTestSuites + results.numRuntimeErrorTestSuites,
    };
    fs.writeFileSync(path.join(this.rootDir, 'test-results.json'), JSON.stringify(summary) + '\n');
  }
}
module.exports = SummaryReporter;
