// Journey 10: a computation large enough for the fast engine (300 queries × 300 keys) runs on the native kernel
// in code-server: the .vsix carries dist/attention.node, the extension host loads it, and the heatmap's subtitle
// names the kernel that computed it. A manifest ties three .npy files (written now) together.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { workbench } from '../support/hooks';
import { writeFloat32Npy } from '../support/files';
import { bodyData, step, visibleText } from '../support/workbench';

const J = 'journey 10 (native kernel)';

describe('journey 10: the native kernel computes in code-server', () => {
  before(async () => workbench().reset());

  it('a 300×300 manifest computes with native (avx512|avx2|portable), named in the subtitle', async () => {
    const wb = workbench();
    const page = wb.page;
    const ws = wb.workspace;
    // Deterministic inputs; the exact values do not matter here, only which kernel computed them.
    writeFloat32Npy(path.join(ws, 'j10-q.npy'), 300, 16, (i, j) => Math.sin(i * 0.37 + j));
    writeFloat32Npy(path.join(ws, 'j10-k.npy'), 300, 16, (i, j) => Math.cos(i * 0.11 + j * 0.5));
    writeFloat32Npy(path.join(ws, 'j10-v.npy'), 300, 4, (i, j) => (i % 7) - j);
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
    await wb.screenshot('10-native-kernel');
  });
});
