// Lint: typescript-eslint recommended, plus the rule that keeps src/core pure (no vscode import),
// so it runs in plain Node: the CLI, the worker threads and the unit tests.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', '**/out/**', 'node_modules/**', '.vscode-test/**', 'assembly/**', '*.js', '*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-eval': 'error',
      'no-new-func': 'error',
    },
  },
  {
    // The zones (docs/ARCHITECTURE.md): no import cycles anywhere; the webview imports only the shared zone;
    // the shared zone imports only itself; src/core imports no host file.
    files: ['src/**/*.ts', 'webview/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.mts', '.js'] })],
      'import-x/extensions': ['.ts', '.mts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts'] },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', {
        zones: [
          { target: './webview', from: './src', except: ['./shared'], message: 'The webview imports only from src/shared.' },
          { target: './src/shared', from: ['./src', './webview'], except: ['./shared'], message: 'src/shared imports only itself.' },
          { target: './src/core', from: './src', except: ['./core', './shared'], message: 'src/core imports no host file.' },
        ],
      }],
    },
  },
  {
    // Build and demo scripts are plain CommonJS run by node.
    files: ['scripts/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/core must stay pure: no vscode import.' }] }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'The webview cannot import vscode.' }] }],
      'no-restricted-properties': ['error',
        { property: 'innerHTML', message: 'Insert text with textContent: strings from files are untrusted.' },
        { property: 'outerHTML', message: 'Insert text with textContent: strings from files are untrusted.' },
        { property: 'insertAdjacentHTML', message: 'Insert text with textContent: strings from files are untrusted.' }],
    },
  },
);
