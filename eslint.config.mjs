import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'test-output/**', 'node_modules/**', '**/*.cjs', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['warn', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The core must run without Electron: the CLI and the tests load it in plain Node.
    files: ['electron/core/**/*.ts', 'electron/cli/**/*.ts', 'electron/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'electron/core must not import electron.' }] },
      ],
    },
  },
  {
    // The renderer is untrusted web content: no Node or Electron, only the typed API.
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Package names only: the shared contract under ../electron/shared is allowed.
              regex: '^(node:.*|electron|keytar|undici|fs|path|os|child_process|net|http|https|crypto)(/.*)?$',
              message: 'The renderer may not use Node or Electron modules.',
            },
            {
              group: ['**/electron/core/**', '**/electron/main/**', '**/electron/cli/**'],
              message: 'The renderer talks to the core only through the IPC contract.',
            },
          ],
        },
      ],
    },
  },
);
