// Journey "real data": what a model run saves opens as it is. An .npz with attentions + tokens (as people save
// transformers output) shows its layer × head grid, and a head shows the tokens on its axes and in hover; the same
// run as bfloat16 safetensors (tokens in __metadata__) opens its grid too. Numbers from NumPy (make_samples.py).
import * as assert from 'assert';
import { workbench } from '../support/hooks';
import { bodyData, step } from '../support/workbench';
import { hoverUntil } from '../support/heatmap';

const J = 'journey real data (tokens, safetensors)';

describe('journey real data: .npz with tokens, bf16 safetensors', () => {
  before(async () => workbench().reset());

  it('an .npz with tokens: grid → layer 2 head 3, hover shows "it" attending to "cat" with the tokens', async () => {
    const wb = workbench();
    const page = wb.page;
    await step(J, 'open samples/run-with-tokens.npz', () => wb.openFile('run-with-tokens.npz'));
    const grid = await step(J, 'the 3 × 4 grid shows', () =>
      wb.webviewFrame('#grid .grid-cell', 'run-with-tokens.npz grid', async (f) => (await f.locator('#grid .grid-cell').count()) === 12));
    await step(J, 'click layer 2 head 3', () => grid.locator('#grid .grid-cell[data-layer="2"][data-head="3"]').click());
    const frame = await step(J, 'the head opens as a 12×12 heatmap', () =>
      wb.heatmap('layer 2 head 3', async (f) => (await bodyData(f, 'rows')) === '12' && (await bodyData(f, 'cols')) === '12'));
    // NumPy: run[2, 3, 8, 2] = 0.998 (query 8 is "Ġit", key 2 is "Ġcat"); tokens are shown with ␣ for the space.
    const cell = await step(J, 'hover row 8, column 2', () =>
      hoverUntil(page, frame, 'query 8 ␣it, key 2 ␣cat (0.998)', (t) => t.includes('␣it') && t.includes('␣cat') && /0?\.998|99\.8%/.test(t), { row: 8, col: 2 }));
    assert.ok(cell.tooltip.includes('␣it'), cell.tooltip);
    await wb.screenshot('1x-real-data-npz-tokens');
  });

  it('a bfloat16 safetensors dump opens its grid, and a head its tokens', async () => {
    const wb = workbench();
    const page = wb.page;
    await wb.reset();
    await step(J, 'open samples/run-with-tokens.safetensors', () => wb.openFile('run-with-tokens.safetensors'));
    const grid = await step(J, 'the 3 × 4 grid shows', () =>
      wb.webviewFrame('#grid .grid-cell', 'run-with-tokens.safetensors grid', async (f) => (await f.locator('#grid .grid-cell').count()) === 12));
    await step(J, 'click layer 0 head 0 (previous-token head)', () => grid.locator('#grid .grid-cell[data-layer="0"][data-head="0"]').click());
    const frame = await step(J, 'the head opens as a 12×12 heatmap', () =>
      wb.heatmap('layer 0 head 0', async (f) => (await bodyData(f, 'rows')) === '12' && (await bodyData(f, 'cols')) === '12'));
    // Query 3 "Ġsat" looks at key 2 "Ġcat" (the previous token); bf16 keeps 2-3 significant digits.
    await step(J, 'hover row 3, column 2', () =>
      hoverUntil(page, frame, 'query 3 ␣sat, key 2 ␣cat', (t) => t.includes('␣sat') && t.includes('␣cat'), { row: 3, col: 2 }));
    await wb.screenshot('1x-real-data-safetensors');
  });
});
