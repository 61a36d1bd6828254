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
