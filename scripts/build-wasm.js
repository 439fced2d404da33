// Compiles assembly/attention.ts to dist/attention.wasm with the AssemblyScript compiler from node_modules
// (offline). Called synchronously by esbuild.js before bundling; skips the compile when the .wasm is newer
// than every source, so repeated builds stay fast.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const sourceDir = path.join(root, 'assembly');
const outFile = path.join(root, 'dist', 'attention.wasm');

function newestSource() {
  let newest = fs.statSync(__filename).mtimeMs;
  for (const name of fs.readdirSync(sourceDir)) {
    if (name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(path.join(sourceDir, name)).mtimeMs);
  }
  return newest;
}

function buildWasm({ production = false } = {}) {
  if (!fs.existsSync(sourceDir)) return;
  if (fs.existsSync(outFile) && fs.statSync(outFile).mtimeMs >= newestSource()) return;
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const asc = path.join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  const args = [
    asc, path.join(sourceDir, 'attention.ts'),
    '--outFile', outFile,
    '--runtime', 'stub', // no GC or allocator: the host owns the memory layout
    '--noAssert',
    '--optimizeLevel', '3', '--shrinkLevel', '0',
    '--initialMemory', '2',
    '--enable', 'simd',
  ];
  if (!production) args.push('--debug');
  execFileSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  console.log(`wasm: ${path.relative(root, outFile)} (${fs.statSync(outFile).size} bytes)`);
}

module.exports = { buildWasm };

if (require.main === module) buildWasm({ production: process.argv.includes('--production') });
