// Lint rules for the TypeScript sources (npm run lint; part of npm test).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// One error contract: in lib/, only lib/base/errors.ts constructs (or extends) Error, TypeError or
// RangeError; everything else throws a FinetorchError (or a subclass) or asks that module for a
// coded one.
const BARE_ERROR = 'NewExpression[callee.name=/^(Error|TypeError|RangeError)$/], CallExpression[callee.name=/^(Error|TypeError|RangeError)$/], ' +
  'ClassDeclaration[superClass.name=/^(Error|TypeError|RangeError)$/]';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'docs/**', 'scripts/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Typed rules: a promise nobody awaits loses its error; a value typed `any` (what the native
    // addon and JSON.parse hand back) must get a type before lib/ uses it.
    files: ['lib/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe() and it() return promises the runner awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
      }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A caught or stored error is thrown on as it came (unknown), never a string of our own.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'error',
      '@typescript-eslint/no-unsafe-member-access': 'error',
      '@typescript-eslint/no-unsafe-call': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
    },
  },
  {
    files: ['lib/**/*.ts'],
    ignores: ['lib/base/errors.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: BARE_ERROR,
        message: 'Every error finetorch throws carries a code: throw a FinetorchError, or typeError/rangeError/nodeError/internalError from lib/base/errors.ts.',
      }],
    },
  },
);
