// ESLint flat config. Prettier owns layout (.prettierrc.json); ESLint owns meaning: ESLint's and
// typescript-eslint's recommended sets, plus the parts of STYLE.md a linter can check (no enum,
// named exports, ===, no console where a logger or an Io exists).
//
// No type-aware rules: with type information (`no-floating-promises`, `no-misused-promises`)
// `eslint .` takes ~33 s on the 2-core machine against ~10 s without, and `npm run lint` must
// stay under 30 s for the commit hook.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const noEnum = {
  selector: 'TSEnumDeclaration',
  message: 'No enum (STYLE.md): use a string union or an `as const` object.',
};
const namedExportsOnly = {
  selector: 'ExportDefaultDeclaration',
  message: 'Named exports only (STYLE.md).',
};

export default defineConfig(
  globalIgnores(['coverage/', '.handoff/', 'test-results/', 'dist/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `x == null` is the one loose comparison allowed: it means null or undefined (zod's nullish).
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // A late-bound closure (`let intake; const sink = () => intake(…); intake = …`) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-restricted-syntax': ['error', noEnum],
      // `_name` marks a binding kept on purpose (a destructured field left out, an unused parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The product: the bridge logs through its Logger, the CLI writes through its Io.
    files: ['src/**', 'adapters/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-syntax': ['error', noEnum, namedExportsOnly],
    },
  },
  {
    // Fakes and helpers stand in for platform payloads and SDK internals, where `any` is the honest type.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
