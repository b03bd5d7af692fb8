// Type-aware lint for the mistakes that matter on a money path: promises nobody awaits (a posting that
// silently never happens), promises passed where a callback is expected, and awaiting non-promises.
// Formatting is prettier's job (npm run format), not the linter's.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.settle/**', 'bench/results/**', 'soak/results/**', 'scratch/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.name='parseFloat']", message: 'money is integer minor units: use parseDecimal from src/domain/money.ts' },
      ],
    },
  },
);
