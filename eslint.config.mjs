// ESLint (flat config): `npm run lint`, and a step of `npm test`.
// The TypeScript of src/, __test__/ and examples/ (what tsconfig.json compiles) gets
// typescript-eslint's type-aware recommended rules; the root config files its syntactic ones;
// the plain JavaScript (.mjs and .cjs of bench/, servers/, scripts/, __test__/, examples/, and
// the upload app's page) ESLint's own recommended rules. Types of the JavaScript are tsc's job (tsconfig.scripts.json).
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// `_` names a value left unused on purpose: a loop that only drains an iterator
// (`for await (const _ of …)`); a key taken out of an object is dropped by the rest beside it.
const unusedVars = ['error', { varsIgnorePattern: '^_', ignoreRestSiblings: true }]

export default tseslint.config(
  {
    // generated (napi's loader and declarations, tsup's bundle, cargo's output), installed or scratch
    ignores: [
      'native/index.cjs', 'native/index.d.ts', 'dist/', 'target/', 'bench/.deps/', 'bench/.tmp/',
      '.tools/', '.test-tmp/', '.stowage-demo/', '.stowage-upload-app/', '__test__/.artifacts/', 'docs/api/',
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.cjs'],
    languageOptions: { ecmaVersion: 2024, globals: { ...globals.node } },
    rules: { 'no-unused-vars': unusedVars },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  {
    // the upload app's page: browser JavaScript, served as it is (no build step)
    files: ['examples/upload-app/public/**/*.js'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.browser } },
    rules: { 'no-unused-vars': unusedVars },
  },
  {
    files: ['src/**/*.ts', '__test__/**/*.ts', 'examples/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': unusedVars,
      // An async function without await is deliberate here, and dropping `async` would change
      // what it does: async generators as AsyncIterable sources, providers whose contract is a
      // promise, a constructor's synchronous throw turned into a rejection.
      '@typescript-eslint/require-await': 'off',
      // Passing on a caught value (typed unknown) is not making up a non-Error reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // The secrets tests stringify values on purpose: what String() and `${}` show of any value
    // is exactly the text they search for a secret.
    files: ['__test__/secrets.test.ts', '__test__/cloud/helpers.ts'],
    rules: {
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    files: ['*.config.ts'],
    extends: [tseslint.configs.recommended],
  },
)
