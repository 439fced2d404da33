// Compiles assembly/attention.ts with the AssemblyScript compiler from node_modules (offline), twice:
//   dist/attention.wasm      SIMD128 only: runs on every Node and Electron we support;
//   dist/attention-fma.wasm  SIMD128 + relaxed SIMD (fused multiply-add): ~1.4x faster where the engine can
//                            load it (src/core/compute/kernel.ts picks it when WebAssembly.validate accepts it).
// Called synchronously by esbuild.js before bundling; skips a compile when its .wasm is newer than every
// source, so repeated builds stay fast.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const sourceDir = path.join(root, 'assembly');
const outputs = [
  { file: path.join(root, 'dist', 'attention.wasm'), features: ['simd'] },
  { file: path.join(root, 'dist', 'attention-fma.wasm'), features: ['simd', 'relaxed-simd'] },
];

function newestSource() {
  let newest = fs.statSync(__filename).mtimeMs;
  for (const name of fs.readdirSync(sourceDir)) {
    if (name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(path.join(sourceDir, name)).mtimeMs);
  }
  return newest;
}

function buildWasm({ production = false } = {}) {
  if (!fs.existsSync(sourceDir)) return;
  const newest = newestSource();
  for (const { file, features } of outputs) {
    if (fs.existsSync(file) && fs.statSync(file).mtimeMs >= newest) continue;
    compile(file, features, production);
  }
}

function compile(outFile, features, production) {
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const asc = path.join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  const args = [
    asc, path.join(sourceDir, 'attention.ts'),
    '--outFile', outFile,
    '--runtime', 'stub', // no GC or allocator: the host owns the memory layout
    '--noAssert',
    '--optimizeLevel', '3', '--shrinkLevel', '0',
    '--initialMemory', '2',
    ...features.flatMap((f) => ['--enable', f]),
  ];
  if (!production) args.push('--debug');
  execFileSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  console.log(`wasm: ${path.relative(root, outFile)} (${fs.statSync(outFile).size} bytes)`);
}

module.exports = { buildWasm };

if (require.main === module) buildWasm({ production: process.argv.includes('--production') });
