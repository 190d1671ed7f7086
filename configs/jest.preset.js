// One jest preset for every package: TypeScript through swc (fast, no type check: `build` type-checks),
// and workspace imports mapped to sources so a test never depends on a stale dist/.
const path = require('node:path');

const packagesDir = path.join(__dirname, '..', 'packages');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': [
      require.resolve('@swc/jest'),
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  moduleNameMapper: {
    '^@cbnn/([a-z-]+)$': path.join(packagesDir, '$1', 'src', 'index.ts'),
    // Subpath exports (a package's light entry points, e.g. @cbnn/bench/bench-format).
    '^@cbnn/([a-z-]+)/([a-z-]+)$': path.join(packagesDir, '$1', 'src', '$2.ts'),
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60000,
  reporters: ['default', path.join(__dirname, 'jest-summary-reporter.js')],
};
