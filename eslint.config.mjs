// @ts-check
import eslint from '@eslint/js';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

/** The product's sources (not tests, bench or scripts): the rules below that hold only there. */
const productFiles = [
  'core/**/*.ts',
  'config/**/*.ts',
  'queue/**/*.ts',
  'tls/**/*.ts',
  'cli/**/*.ts',
  'proxy/**/*.ts',
  'forwarder/**/*.ts',
  'elasticsearch/**/*.ts',
];

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/support/.cache/**', '**/*.js', '**/*.mjs', 'data/**'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through config/ (convict) only.' },
      ],
      'no-restricted-imports': ['error', { patterns: [] }],
    },
  },
  {
    // Small files named for what they export (STYLE.md); tests and generated descriptors may run longer.
    files: productFiles,
    ignores: ['queue/otlp/descriptor.ts'],
    rules: { 'max-lines': ['error', { max: 450, skipBlankLines: true, skipComments: true }] },
  },
  {
    // Every error of the product has a stable code (STYLE.md): a SidecarError of the catalogue, an InternalError of
    // the internal codes or a SystemError carrying Node's; core/errors.ts defines those three.
    files: productFiles,
    ignores: ['core/errors.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: ':matches(NewExpression, CallExpression)[callee.name=/^(Error|TypeError|RangeError|SyntaxError)$/]',
          message: 'An error without a code: throw a SidecarError or InternalError (core/errors.ts) instead.',
        },
        {
          selector:
            ':matches(ClassDeclaration, ClassExpression)[superClass.name=/^(Error|TypeError|RangeError|SyntaxError)$/]',
          message: 'An error class without a code: extend InternalError or SidecarError (core/errors.ts) instead.',
        },
      ],
    },
  },
  {
    // proxy and forwarder never import each other (STYLE.md: imports flow one way).
    files: ['proxy/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/forwarder/**', '../forwarder*'], message: 'proxy must not import forwarder' }] },
      ],
    },
  },
  {
    files: ['forwarder/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/proxy/**', '../proxy*'], message: 'forwarder must not import proxy' }] },
      ],
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*', '!./*'], message: 'core imports nothing of ours' }] },
      ],
    },
  },
  {
    // The config loader is the one place that reads the environment; tests and benches set it up for children.
    files: ['config/load.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
