import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.test-servers/', '.rpr/', '.bundles/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Runtime code logs through the shared, redacting logger only.
    files: ['layers/**/*.ts', 'functions/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
);
