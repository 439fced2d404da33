/**
 * Memory budget for `npm run bench`: ten heatmaps open on ten large files, as the host holds them (each panel keeps
 * its file's full-resolution matrix in a ModelServer; the webview gets only the pooled overview). Writes ten
 * 4096×4096 float32 .npy files to a temporary folder, opens each the way a panel does, and measures the host's
 * resident and array-buffer memory with all ten alive (and the array-buffer peak while they open).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';
import { writeNpy } from '../src/core/npyWrite';
import { DEFAULT_SETTINGS } from '../src/core/settings';
import { ModelServer } from '../src/core/view/serve';
import { fileSource } from '../src/sources/fileSource';

const PANELS = 10;
const N = 4096;

function collect(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // Twice: array buffers are freed by the collection after the one that finds them unreachable.
  gc();
  gc();
}

const mib = (bytes: number) => bytes / (1024 * 1024);

/** In a function of its own so the source array is garbage before the baseline is taken. */
async function writeFiles(dir: string): Promise<void> {
  const data = new Float32Array(N * N);
  for (let i = 0; i < data.length; i++) data[i] = (i % 9973) / 9973;
  for (let p = 0; p < PANELS; p++) await writeNpy(path.join(dir, `map${p}.npy`), { shape: [N, N], dtype: 'float32', data });
}

export async function benchMemory(): Promise<{ name: string; ms: number | null; note: string }[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attn-mem-'));
  try {
    await writeFiles(dir);
    collect();
    const before = process.memoryUsage();
    const servers: ModelServer[] = [];
    let posted = 0;
    let peak = 0;
    const env = { settings: () => DEFAULT_SETTINGS };
    for (let p = 0; p < PANELS; p++) {
      // The way a panel opens a file: its source's load (the pipeline), then the first post (model + overview).
      const model = await fileSource(path.join(dir, `map${p}.npy`), undefined, env).load();
      const server = new ModelServer(model, { overviewSize: 512 });
      server.wireModel();
      posted += server.wireMatrix(model.defaultKind)?.overview.byteLength ?? 0;
      servers.push(server);
      // Before any collection: what the copies on the way cost while the panels open.
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before.arrayBuffers);
    }
    collect();
    const after = process.memoryUsage();
    const held = after.arrayBuffers - before.arrayBuffers;
    const rss = after.rss - before.rss;
    const note = `${PANELS} panels on ${N}×${N} float32 files: host holds ${mib(held).toFixed(0)} MiB of arrays ` +
      `(${(mib(held) / PANELS).toFixed(1)} MiB each; the file is ${mib(N * N * 4).toFixed(0)} MiB), ` +
      `peak while opening ${mib(peak).toFixed(0)} MiB, RSS +${mib(rss).toFixed(0)} MiB; ` +
      `posted to webviews: ${(posted / 1024 / PANELS).toFixed(0)} KiB overview each`;
    if (servers.length !== PANELS) throw new Error('panels were not all kept');
    return [{ name: 'memory: 10 panels on 4096² files (MiB held)', ms: Math.round(mib(held)), note }];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
