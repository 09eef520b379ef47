// Strict, type-aware lint for our own code; generated code in gen/ is machine-owned.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';


export default tseslint.config(
  { ignores: ['gen/**', 'dist/**', 'node_modules/**', 'coverage/**', '*.js', '*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-restricted-imports': ['error', { patterns: [{ group: ['../../dist/*'], message: 'import sources, not build output' }] }],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['typeorm', '@grpc/*', 'mysql2', 'mysql2/*'], message: 'domain/ holds pure rules: no database or transport' },
        { group: ['../application/*', '../persistence/*', '../transport/*', '../security/*'], message: 'domain/ depends on nothing' },
      ] }],
    },
  },
  {
    files: ['src/application/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['typeorm', '@grpc/*', 'mysql2', 'mysql2/*'], message: 'application/ reaches the database and the wire only through ports' },
        { group: ['../persistence/*', '../transport/*', '../security/*', '../events/*'], message: 'application/ depends on domain/ and its own ports' },
      ] }],
    },
  },
  {
    files: ['src/events/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['typeorm', 'mysql2', 'mysql2/*', '@grpc/*'], message: 'events/ reads the outbox through its OutboxQueue port' },
        { group: ['../application/*', '../persistence/*', '../transport/*', '../security/*'], message: 'events/ publishes the outbox: it depends on domain/ and the contract' },
      ] }],
    },
  },
  {
    files: ['src/transport/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['typeorm', 'mysql2', 'mysql2/*', '**/persistence/*'], message: 'transport/ calls application/, never the database' },
      ] }],
    },
  },
  {
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/src/*', 'typeorm', 'mysql2', 'mysql2/*'], message: 'client/ is what callers install: gen/ and grpc-js only, never the server' },
      ] }],
    },
  },
  {
    files: ['test/integration/client-package.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/gen/*', '**/src/*', '**/support/api', '**/support/rpc-error'], message: 'the client package is tested through its public exports only' },
      ] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // grpc-js client methods are passed around and called with .call(client, ...).
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
