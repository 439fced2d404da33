// Journey 4: an [L, H, n, n] dump opens in the custom editor as a layer × head grid; a head opens as a heatmap.
// Then a 4096×4096 float32 map (64 MB, written at test time) opens, shows a pooled overview, and zooms.
import * as assert from 'assert';
import * as path from 'path';
import { workbench } from '../support/hooks';
import { bodyData, step, visibleText, waitFor } from '../support/workbench';
import { cellOf, hoverUntil, tooltipAt, zoomIn } from '../support/heatmap';
import { numbersIn, writeFloat32Npy } from '../support/files';

const J = 'journey 4 (dump grid, 4096² map)';
const BIG = 'j4-big-4096.npy';

describe('journey 4: [L, H, n, n] grid → head heatmap; a 4096×4096 map zooms', () => {
  before(async () => workbench().reset());

  it('shows 2 layers × 4 heads and opens layer 1 head 2', async () => {
    const wb = workbench();
    const page = wb.page;
    await step(J, 'open samples/attention-dump.npy', () => wb.openFile('attention-dump.npy'));
    const grid = await step(J, 'the layer × head grid shows', () =>
      wb.webviewFrame('#grid .grid-cell', 'attention-dump.npy grid', async (f) => (await f.locator('#grid .grid-cell').count()) === 8));
    const layers = await grid.locator('#grid .grid-cell').evaluateAll((cells) => cells.map((c) => `${c.getAttribute('data-layer')}/${c.getAttribute('data-head')}`));
    assert.deepStrictEqual([...layers].sort(), ['0/0', '0/1', '0/2', '0/3', '1/0', '1/1', '1/2', '1/3']);

    await step(J, 'click layer 1 head 2', () => grid.locator('#grid .grid-cell[data-layer="1"][data-head="2"]').click());
    const frame = await step(J, 'the head opens as a 10×10 heatmap', () =>
      wb.heatmap('layer 1 head 2', async (f) => (await bodyData(f, 'rows')) === '10' && (await bodyData(f, 'cols')) === '10'));
    // NumPy: dump[1, 2, 2, :] = [0.959, 0.026, 0.015, 0, …] (layer 1 head 2 attends to the first token).
    const cell = await step(J, 'hover row 2, column 0 of the head', () =>
      hoverUntil(page, frame, 'row 2 col 0 (0.959)', (t) => /\b0?\.959\d*|95\.9%/.test(t), { row: 2, col: 0 }));
    assert.ok(cell.tooltip.length > 0);

    // The rollout under the grid opens at full resolution in the same view. NumPy (A = ½·head mean + ½·I per
    // layer, rows renormalised, R = A₁·A₀): R[2, 0] = 0.3029, second in its row after R[2, 2] = 0.505.
    await step(J, 'click the "rollout" cell under the grid', () => grid.locator('#grid button.grid-extra[data-kind="rollout"]').click());
    await step(J, 'the view shows the rollout, and its cell is pressed', () =>
      waitFor('body[data-kind=rollout]', async () =>
        ((await bodyData(frame, 'kind')) === 'rollout' && (await bodyData(frame, 'state')) === 'ready'
          && (await grid.locator('#grid button.grid-extra[data-kind="rollout"]').getAttribute('aria-pressed')) === 'true' ? true : undefined), 15_000, 200));
    const rolled = await step(J, 'hover row 2, column 0 of the rollout', () =>
      hoverUntil(page, frame, 'rollout row 2 col 0 (0.303, rank 2)', (t) => /attention rollout 0?\.30\d*/.test(t), { row: 2, col: 0 }));
    assert.match(rolled.tooltip, /rank 2 of 10/);
    await step(J, 'click layer 0 head 1: back to that head\'s weights', async () => {
      await grid.locator('#grid .grid-cell[data-layer="0"][data-head="1"]').click();
      await waitFor('body[data-kind=weights] for layer 0 head 1', async () =>
        ((await bodyData(frame, 'kind')) === 'weights' && (await bodyData(frame, 'state')) === 'ready'
          && (await grid.locator('#grid .grid-cell[data-layer="0"][data-head="1"]').getAttribute('aria-pressed')) === 'true' ? true : undefined), 15_000, 200);
    });
    await wb.screenshot('04-dump-grid');
  });

  it('opens a 4096×4096 float32 .npy, pools the overview and zooms in', async function () {
    this.timeout(240_000);
    const wb = workbench();
    const page = wb.page;
    await wb.reset();
    // value(i, j) = ((i * 7 + j * 13) % 1000) / 1000: varied, in [0, 1), easy to check from a tooltip.
    const wrote = Date.now();
    writeFloat32Npy(path.join(wb.workspace, BIG), 4096, 4096, (i, j) => ((i * 7 + j * 13) % 1000) / 1000);
    console.log(`      wrote ${BIG} (64 MB) in ${Date.now() - wrote} ms`);

    const opened = Date.now();
    await step(J, `open ${BIG}`, () => wb.openFile(BIG));
    const frame = await step(J, 'the overview draws', () =>
      wb.heatmap('4096² map', async (f) => (await bodyData(f, 'rows')) === '4096' && (await bodyData(f, 'cols')) === '4096', 120_000));
    const firstFrameMs = Date.now() - opened;
    console.log(`      4096×4096: open → first frame ${firstFrameMs} ms (renderer ${await bodyData(frame, 'renderer')})`);
    const note = await visibleText(frame.locator('#pooling-note'));
    assert.ok(note.length > 0, '#pooling-note should say the overview is max-pooled');

    const zoomed = Date.now();
    const zoom = await step(J, 'zoom in', () => zoomIn(page, frame));
    await step(J, 'the zoomed view is ready', () =>
      waitFor('body[data-state=ready] after zooming', async () => ((await bodyData(frame, 'state')) === 'ready' ? true : undefined), 30_000));
    console.log(`      zoom → ${zoom} ready in ${Date.now() - zoomed} ms`);
    assert.ok(Number(zoom) > 1, `zoom should grow: ${zoom}`);
    const value = (i: number, j: number) => ((i * 7 + j * 13) % 1000) / 1000;
    const pooled = await step(J, 'hover the zoomed overview', () =>
      hoverUntil(page, frame, 'a cell of the 4096² map', (t) => cellOf(t) !== undefined));
    // While pooled, the tooltip says so ("block 8×8 max: 0.34") and the max is of the aligned block in the file.
    const block = /block\s+(\d+)\s*×\s*(\d+)\s+max:?\s*(-?[\d.]+)/.exec(pooled.tooltip);
    if (block) {
      const [i, j] = cellOf(pooled.tooltip)!;
      const [bh, bw, shown] = [Number(block[1]), Number(block[2]), Number(block[3])];
      let max = -Infinity;
      for (let r = i - (i % bh); r < i - (i % bh) + bh; r++) for (let c = j - (j % bw); c < j - (j % bw) + bw; c++) max = Math.max(max, value(r, c));
      console.log(`      pooled tooltip ${JSON.stringify(pooled.tooltip)}; the file's block max is ${max}`);
      assert.ok(Math.abs(shown - max) < 0.0015, `pooled tooltip ${JSON.stringify(pooled.tooltip)} should show the block max ${max}`);
    }
    // Zooming further reaches full resolution: the tooltip shows the exact cell (0-based query i, key j).
    let exact = '';
    for (let n = 0; n < 10 && !exact; n++) {
      const box = (await frame.locator('#heatmap').boundingBox())!;
      const text = await tooltipAt(page, frame, { x: box.x + box.width / 2, y: box.y + box.height / 2 }, 800);
      if (cellOf(text) && !/block/i.test(text)) exact = text;
      else await zoomIn(page, frame);
    }
    assert.ok(exact, `zooming in 10 times never showed a single cell; zoom ${await bodyData(frame, 'zoom')}`);
    const [i, j] = cellOf(exact)!;
    const shown = numbersIn(exact.replace(/query\s+\d+\D+key\s+\d+/, ''));
    console.log(`      full resolution at zoom ${await bodyData(frame, 'zoom')}: ${JSON.stringify(exact)}; the file holds ${value(i, j)}`);
    assert.ok(shown.some((v) => Math.abs(v - value(i, j)) < 0.0015), `tooltip ${JSON.stringify(exact)} should show ${value(i, j)}`);
    await wb.screenshot('04-large-4096');
  });
});
