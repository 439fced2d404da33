// Journey 10: a computation large enough for the fast engine (300 queries × 300 keys) runs on the native kernel
// in code-server: the .vsix carries dist/attention.node, the extension host loads it, and the heatmap's subtitle
// names the kernel that computed it. A manifest ties three .npy files (written now) together. Then K is rewritten:
// the recompute lands on the reserve's slab the addon faulted in after the first job, and a hovered weight is the
// reference's for the new K.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { computeAttention } from '../../../src/core/attention';
import type { NdArray } from '../../../src/core/ndarray';
import { formatWeight } from '../../../src/shared/format';
import { workbench } from '../support/hooks';
import { writeFloat32Npy } from '../support/files';
import { cellOf, hoverUntil } from '../support/heatmap';
import { bodyData, step, visibleText } from '../support/workbench';

const matrix = (rows: number, cols: number, value: (i: number, j: number) => number): NdArray =>
  ({ shape: [rows, cols], dtype: 'float32', data: Float32Array.from({ length: rows * cols }, (_, x) => value(Math.floor(x / cols), x % cols)) });

const J = 'journey 10 (native kernel)';

describe('journey 10: the native kernel computes in code-server', () => {
  before(async () => workbench().reset());

  it('a 300×300 manifest computes with native (avx512|avx2|portable), named in the subtitle', async () => {
    const wb = workbench();
    const page = wb.page;
    const ws = wb.workspace;
    // Deterministic inputs; the exact values do not matter here, only which kernel computed them.
    const q = (i: number, j: number) => Math.sin(i * 0.37 + j);
    const k = (i: number, j: number) => Math.cos(i * 0.11 + j * 0.5);
    const v = (i: number, j: number) => (i % 7) - j;
    writeFloat32Npy(path.join(ws, 'j10-q.npy'), 300, 16, q);
    writeFloat32Npy(path.join(ws, 'j10-k.npy'), 300, 16, k);
    writeFloat32Npy(path.join(ws, 'j10-v.npy'), 300, 4, v);
    fs.writeFileSync(path.join(ws, 'j10.attention.json'), JSON.stringify({ Q: 'j10-q.npy', K: 'j10-k.npy', V: 'j10-v.npy' }));
    await step(J, 'open j10.attention.json with Quick Open', () => wb.openFile('j10.attention.json'));
    const lens = page.locator('.editor-group-container.active .codelens-decoration a').filter({ hasText: /compute attention/i }).first();
    await step(J, 'click its CodeLens "Compute attention"', async () => {
      await lens.waitFor({ state: 'visible', timeout: 20_000 });
      await lens.click();
    });
    const frame = await step(J, 'the 300×300 weights draw', () =>
      wb.heatmap('the computed heatmap', async (f) => (await bodyData(f, 'rows')) === '300' && (await bodyData(f, 'cols')) === '300', 60_000));
    const subtitle = await step(J, 'the subtitle names the native kernel', () => visibleText(frame.locator('#subtitle')));
    assert.match(subtitle, /· native \((avx512|avx2|portable)\)$/, `subtitle: ${subtitle}`);

    // K sharpened threefold: the panel recomputes on its own (the file watcher), in the host's reserve.
    const k3 = (i: number, j: number) => 3 * k(i, j);
    const weights = (kv: (i: number, j: number) => number) =>
      computeAttention({ q: matrix(300, 16, q), k: matrix(300, 16, kv), v: matrix(300, 4, v) }).weights;
    const before = weights(k);
    const after = weights(k3);
    writeFloat32Npy(path.join(ws, 'j10-k.npy'), 300, 16, k3);
    const changed = (t: string) => {
      const cell = cellOf(t);
      if (!cell) return false;
      const at = cell[0] * 300 + cell[1];
      return formatWeight(after[at]) !== formatWeight(before[at]) && t.includes(formatWeight(after[at]));
    };
    const hovered = await step(J, 'after K is rewritten, a hovered weight is the reference\'s for the new K', () =>
      hoverUntil(page, frame, 'a weight of the recomputed attention', changed, { row: 0, col: 0 }));
    assert.ok(changed(hovered.tooltip), hovered.tooltip);
    await wb.screenshot('10-native-kernel');
  });
});
