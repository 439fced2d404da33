// Builds the native attention kernel (native/*.c, binding.gyp) with node-gyp and copies it to
// dist/attention.node, where the bundles load it. Run by `npm install` (the "install" script) and by
// esbuild.js when native/ changed since the last build. It never fails the caller: without a compiler, Python
// or Node's headers it prints one line saying the WASM kernel will be used, and exits 0.
//   node scripts/build-native.js [--force]
// ATTN_NODE_GYP=FILE runs that file instead of npm's node-gyp (the unit test points it at a broken one).
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const built = path.join(root, 'build', 'Release', 'attention.node');
const target = path.join(root, 'dist', 'attention.node');

/** node-gyp: the one npm runs scripts with, else the copy inside npm next to this Node. */
function findNodeGyp() {
  if (process.env.ATTN_NODE_GYP) return process.env.ATTN_NODE_GYP;
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

/** Node's own headers when installed with it (no download, works offline); else node-gyp fetches them. */
function nodeDirArgs() {
  const prefix = path.join(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${path.resolve(prefix)}`] : [];
}

function newestSource() {
  let newest = Math.max(fs.statSync(__filename).mtimeMs, fs.statSync(path.join(root, 'binding.gyp')).mtimeMs);
  for (const name of fs.readdirSync(path.join(root, 'native'))) newest = Math.max(newest, fs.statSync(path.join(root, 'native', name)).mtimeMs);
  return newest;
}

function isFresh() {
  return fs.existsSync(built) && fs.statSync(built).mtimeMs >= newestSource();
}

function copyToDist() {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (fs.existsSync(target) && fs.statSync(target).mtimeMs >= fs.statSync(built).mtimeMs) return;
  // A new file renamed over the old one: a process that has the old one loaded keeps its own (unchanged) copy.
  const temp = `${target}.${process.pid}.tmp`;
  fs.copyFileSync(built, temp);
  fs.renameSync(temp, target);
}

function fallback(reason) {
  console.log(`attention-inspector: native kernel not built (${reason}); the WASM kernel will be used.`);
  return false;
}

/** Build (unless fresh) and copy; true when dist/attention.node is current. Never throws. */
function buildNative({ force = false, quiet = false } = {}) {
  try {
    if (!fs.existsSync(path.join(root, 'binding.gyp'))) return false;
    if (force || !isFresh()) {
      const gyp = findNodeGyp();
      if (!gyp) return fallback('node-gyp not found');
      const run = spawnSync(process.execPath, [gyp, 'rebuild', ...nodeDirArgs()], {
        cwd: root, encoding: 'utf8', stdio: quiet ? 'pipe' : ['ignore', 'pipe', 'pipe'], timeout: 300_000,
      });
      if (run.error || run.status !== 0 || !fs.existsSync(built)) {
        const lines = `${run.stderr ?? ''}\n${run.stdout ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => /error/i.test(l));
        return fallback(run.error?.message ?? lines[0] ?? `node-gyp exited with ${run.status}`);
      }
    }
    copyToDist();
    if (!quiet) console.log(`native: ${path.relative(root, target)} (${fs.statSync(target).size} bytes)`);
    return true;
  } catch (err) {
    return fallback(err instanceof Error ? err.message : String(err));
  }
}

module.exports = { buildNative };

if (require.main === module) {
  buildNative({ force: process.argv.includes('--force') });
  process.exit(0);
}
