// One build for the bundles: the extension host, the webview, the notebook renderer, the CLI, and the compute worker.
// Usage: node esbuild.js [--watch] [--production]
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'info',
  legalComments: 'none',
};

const node = { ...common, platform: 'node', format: 'cjs', target: 'node20' };

/** The CLI's commands, each its own bundle beside dist/cli.js. */
const CLI_COMMANDS = ['inspect', 'compute', 'heads'];
const cliCommandsApart = {
  name: 'cli-commands-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/cli\/(inspect|compute|heads)$/ }, (args) => ({ path: `./cli-${args.path.slice(6)}.js`, external: true }));
  },
};

const builds = [
  { ...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  // The CLI's entry is small and loads only the command it runs (dist/cli-<command>.js), so a tiny job does not
  // parse the engine, the file readers and the head metrics it does not use.
  { ...node, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, plugins: [cliCommandsApart],
    // require(), not import(): a dynamic import would start Node's ESM loader (~30 ms) to load a CommonJS file.
    supported: { 'dynamic-import': false } },
  ...CLI_COMMANDS.map((name) => ({ ...node, entryPoints: [`src/cli/${name}.ts`], outfile: `dist/cli-${name}.js` })),
  { ...node, entryPoints: ['src/core/compute/worker.ts'], outfile: 'dist/worker.js' },
  { ...common, platform: 'browser', format: 'iife', target: 'chrome114', entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js' },
  // The notebook renderer: an ES module VS Code imports into the notebook's webview (contributes.notebookRenderer);
  // it bundles the panel's stylesheet as text for its shadow roots.
  {
    ...common, platform: 'browser', format: 'esm', target: 'chrome114', entryPoints: ['webview/notebook/index.ts'],
    outfile: 'dist/notebookRenderer.js', loader: { '.css': 'text' },
  },
].filter((b) => fs.existsSync(b.entryPoints[0]));

/** The WebAssembly kernel is compiled from assembly/ by AssemblyScript before bundling (see scripts/build-wasm.js). */
function buildWasm() {
  const script = path.join(__dirname, 'scripts', 'build-wasm.js');
  if (fs.existsSync(script)) {
    require(script).buildWasm({ production });
  }
}

/**
 * The native kernel (native/*.c) is rebuilt by node-gyp when its sources changed and copied to dist/; a failed
 * build says so in one line and the WASM kernel is used (see scripts/build-native.js).
 */
function buildNative() {
  const script = path.join(__dirname, 'scripts', 'build-native.js');
  if (fs.existsSync(script)) require(script).buildNative({ quiet: true });
}

async function main() {
  fs.mkdirSync('dist', { recursive: true });
  buildWasm();
  buildNative();
  if (watch) {
    const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
    await Promise.all(contexts.map((c) => c.watch()));
    return;
  }
  await Promise.all(builds.map((b) => esbuild.build(b)));
  if (fs.existsSync('dist/cli.js')) fs.chmodSync('dist/cli.js', 0o755);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
