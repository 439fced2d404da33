// Journey 1x (compare): Compare With… of two long-context heads streamed from Q and K. Two manifests name Q and K
// .npy files of 8448 × 16 (8448² weights, above attentionInspector.maxCells = 8192², so each head is streamed) written
// at test time; head A's keys are its queries × 4 (each query's own key wins), head B's are random. With A open,
// "Compare With…" → B opens A − B: the pooled overview draws (made in row bands, never n×n), zooming reaches single
// cells and the hover shows A's weight, B's weight and A − B as the core computes them for that row.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { workbench } from '../support/hooks';
import { bodyData, step, visibleText, waitFor } from '../support/workbench';
import { canvasBox, cellOf, tooltipAt, zoomIn } from '../support/heatmap';
import { hashValue, writeFloat32Npy } from '../support/files';
import { StreamDetail } from '../../../src/core/stream/detail';
import { formatNumber, formatWeight } from '../../../src/shared/format';

const J = 'journey 1x (compare two streamed heads)';
const N = 8448;
const D = 16;

const q = (i: number, t: number) => hashValue(11, i * D + t);
const kA = (i: number, t: number) => Math.fround(4 * q(i, t));
const kB = (i: number, t: number) => hashValue(12, i * D + t);

describe('journey 1x: Compare With… on two streamed long-context heads', () => {
  before(async () => workbench().reset());

  it('A − B of two 8448-token heads streamed from Q and K opens, and a hover shows A, B and the difference', async function () {
    this.timeout(600_000);
    const wb = workbench();
    const page = wb.page;
    const ws = wb.workspace;
    writeFloat32Npy(path.join(ws, 'cmp_q.npy'), N, D, q);
    writeFloat32Npy(path.join(ws, 'cmpA_k.npy'), N, D, kA);
    writeFloat32Npy(path.join(ws, 'cmpB_k.npy'), N, D, kB);
    // V of width 1 inline: it also makes each manifest a Compare With… candidate (a member with a shape).
    const vText = JSON.stringify(Array.from({ length: N }, (_, i) => [(i % 5) / 4]));
    fs.writeFileSync(path.join(ws, 'cmpA.attention.json'), `{"Q": "cmp_q.npy", "K": "cmpA_k.npy", "V": ${vText}}`);
    fs.writeFileSync(path.join(ws, 'cmpB.attention.json'), `{"Q": "cmp_q.npy", "K": "cmpB_k.npy", "V": ${vText}}`);

    await step(J, 'open cmpA.attention.json with Quick Open', () => wb.openFile('cmpA.attention.json'));
    await step(J, 'run "Attention: Compare With…"', async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await wb.runCommand('Attention: Compare With…');
        } catch (err) {
          if (attempt >= 6) throw err;
          await page.keyboard.press('Escape');
        }
      }
    });
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('.quick-input-box input');
    await step(J, 'pick cmpB.attention.json', async () => {
      await waitFor('the Compare With quick pick', async () => ((await widget.isVisible()) && !(await input.inputValue()).startsWith('>') ? true : undefined), 60_000, 200);
      await input.fill('cmpB.attention.json');
      await waitFor('"cmpB.attention.json" to be the focused item', async () => {
        const label = (await widget.locator('.quick-input-list .monaco-list-row.focused').first().getAttribute('aria-label', { timeout: 500 })) ?? '';
        return label.startsWith('cmpB.attention.json') && !label.includes('#') ? true : undefined;
      }, 20_000);
      await page.keyboard.press('Enter');
    });

    const started = Date.now();
    const frame = await step(J, 'the 8448×8448 A − B overview draws', () => wb.heatmap('the streamed difference', async (f) =>
      (await bodyData(f, 'rows')) === String(N) && (await bodyData(f, 'cols')) === String(N) && (await visibleText(f.locator('#title'))).includes('−'), 480_000));
    console.log(`      A − B ready ${Date.now() - started} ms after picking B`);
    const note = await visibleText(frame.locator('#pooling-note'));
    assert.match(note, /8448×8448 shown as 497×497, largest magnitude of 17×17 blocks \(computed on demand, never held whole\)/);

    let exact = '';
    for (let n = 0; n < 14 && !exact; n++) {
      await step(J, `zoom in (${n + 1})`, () => zoomIn(page, frame));
      await waitFor('body[data-state=ready] after zooming', async () => ((await bodyData(frame, 'state')) === 'ready' ? true : undefined), 60_000);
      const box = await canvasBox(frame);
      const text = await tooltipAt(page, frame, { x: box.x + box.width / 2, y: box.y + box.height / 2 }, 3000);
      if (cellOf(text) && !/block/i.test(text) && /A − B/.test(text)) exact = text;
    }
    assert.ok(exact, `zooming in never showed a single cell; zoom ${await bodyData(frame, 'zoom')}`);
    const [i, j] = cellOf(exact) as [number, number];

    // The core computes both rows exactly (float64, as computeAttention does).
    const f32 = (f: (i: number, t: number) => number) => Float32Array.from({ length: N * D }, (_, e) => f(Math.floor(e / D), e % D));
    const settings = { similarity: 'dot' as const, scaleFactor: 1 / Math.sqrt(D), mask: { kind: 'none' as const } };
    const none = { max: new Float64Array(0), sum: new Float64Array(0) };
    const a = (await new StreamDetail({ q: f32(q), k: f32(kA), nq: N, nk: N, dk: D, dv: 0 }, settings, none).cell(i, j)).weight;
    const b = (await new StreamDetail({ q: f32(q), k: f32(kB), nq: N, nk: N, dk: D, dv: 0 }, settings, none).cell(i, j)).weight;
    const diff = Math.fround(a - b);
    console.log(`      hovered ${JSON.stringify(exact)}; the reference says A ${a}, B ${b}, A − B ${diff}`);
    assert.ok(exact.includes(`A − B ${formatNumber(diff)}`), `tooltip ${JSON.stringify(exact)} should say A − B ${formatNumber(diff)}`);
    assert.ok(exact.includes(`A ${formatWeight(a)}`), `tooltip should say A ${formatWeight(a)}`);
    assert.ok(exact.includes(`B ${formatWeight(b)}`), `tooltip should say B ${formatWeight(b)}`);
    await wb.screenshot('1x-long-context-compare');
  });
});
