/**
 * Where dist/attention.wasm, dist/attention-fma.wasm, dist/attention.node and dist/worker.js are. In the bundles (dist/extension.js, dist/cli.js,
 * dist/worker.js) `__dirname` is dist/ itself; in unit tests and the bench, compiled by tsc to
 * out/src/core/compute/ or out/scripts/, they are in the repository's dist/ (built by `npm run build`).
 */
import * as fs from 'fs';
import * as path from 'path';

let override: string | undefined;

/** Point the engine at another folder holding its assets, and only there (tests, packaging). */
export function setComputeAssetsDir(dir: string | undefined): void {
  override = dir;
}

export function findAsset(name: 'attention.wasm' | 'attention-fma.wasm' | 'attention.node' | 'worker.js'): string | undefined {
  // An override is the only place looked in, so a test can stand for a platform without some asset.
  const candidates = override ? [override] : [
    // Only a bundle's own folder: tsc also emits out/src/core/compute/worker.js, which is not the bundle.
    path.basename(__dirname) === 'dist' ? __dirname : undefined,
    path.join(__dirname, '..', '..', '..', '..', 'dist'), // out/src/core/compute → dist
    path.join(__dirname, '..', '..', 'dist'), // out/scripts → dist
    path.join(__dirname, '..', 'dist'),
  ];
  for (const dir of candidates) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}
