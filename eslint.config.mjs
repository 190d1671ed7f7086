// Lint: TypeScript rules plus Nx module boundaries, which enforce the design's one-way layering:
// core <- {bitslice, kernels, pipeline} <- train <- {sensitivity, pruning} <- bench <- report <- cli.
// (report reads train's and the analysis packages' file contracts from their light subpaths.)
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const layer = (tag, allowed) => ({ sourceTag: tag, onlyDependOnLibsWithTags: [tag, ...allowed] });

export default [
  { ignores: ['**/dist/**', '**/build/**', '**/node_modules/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Boundaries apply to library code. Tests import their own package by name (the rule
    // crashes on such self-imports in @nx/eslint-plugin 23.2) and may reach further down.
    files: ['**/src/**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            layer('scope:core', []),
            layer('scope:pipeline', ['scope:core']),
            layer('scope:data', ['scope:core']),
            layer('scope:kernels', ['scope:core']),
            layer('scope:train', ['scope:core', 'scope:data', 'scope:kernels']),
            layer('scope:analysis', ['scope:core', 'scope:data', 'scope:kernels', 'scope:train']),
            layer('scope:bench', ['scope:core', 'scope:data', 'scope:kernels', 'scope:train', 'scope:analysis']),
            // The report reads the result files of train, sensitivity and pruning through their light
            // format subpaths (the producers own the contracts), and bench's.
            layer('scope:report', ['scope:core', 'scope:kernels', 'scope:train', 'scope:analysis', 'scope:bench']),
            layer('scope:deploy', ['scope:core', 'scope:kernels']),
            layer('scope:app', [
              'scope:core',
              'scope:pipeline',
              'scope:data',
              'scope:kernels',
              'scope:train',
              'scope:analysis',
              'scope:bench',
              'scope:report',
              'scope:deploy',
            ]),
          ],
        },
      ],
    },
  },
];
