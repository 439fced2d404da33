// Journey 1x (issue 13): what real models emit opens as it is.
// 1. A 5-D [layer, batch, head, T, T] dump (torch.stack of transformers' attentions): Set Axes… names its axes,
//    the batch picker in the header changes the map, and a hovered weight is NumPy's for the other batch.
// 2. Per-head Q [8, T, d] with grouped-query K and V [2, T, d]: Compute Attention from Q, K, V… from the palette
//    gives a grid of 8 heads; head 5 reads KV head 1 and a hovered weight is NumPy's.
// Files and expected values: test/fixtures/realdata/make_fixtures.py (written into test/fixtures/e2e).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { workbench } from '../support/hooks';
import { bodyData, repoRoot, step, visibleText, waitFor } from '../support/workbench';
import { hoverUntil } from '../support/heatmap';

const J = 'journey 1x (dumps and GQA)';
const expected = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'e2e', 'j1x-expected.json'), 'utf8')) as {
  dump: { layer: number; head: number; row: number; col: number; batch0: number; batch2: number };
  gqa: { head: number; row: number; col: number; weight: number; head0: number };
};

/** The tooltip of cell (row, col) showing weight w as "…% (0.xyz)". */
const showsCell = (row: number, col: number, w: number) => (t: string) =>
  new RegExp(`query ${row}\\b`).test(t) && new RegExp(`key ${col}\\b`).test(t) && t.includes(`(${w.toFixed(3)})`);

describe('journey 1x: a 5-D dump\'s batch picker; per-head GQA Q/K/V from the palette', () => {
  before(async () => workbench().reset());

  it('names the axes of a [layer, batch, head, T, T] dump and picks another batch in the header', async () => {
    const wb = workbench();
    const page = wb.page;
    const { row, col } = expected.dump;
    await step(J, 'open fixtures/j1x-stack-lbhtt.npy', () => wb.openFile('fixtures/j1x-stack-lbhtt.npy'));
    const frame = await step(J, 'the first map shows, with a picker for the guessed batch axis', () =>
      wb.heatmap('5-D dump', async (f) => (await bodyData(f, 'rows')) === '4' && (await f.locator('#axis-picker-0').count()) === 1));
    // The custom editor puts the file's shape first: "2×3×2×4×4 · float32 · … — batch 0 of 2 · layer 0 · head 0".
    assert.match(await visibleText(frame.locator('#subtitle')), /batch 0 of 2 · layer 0 · head 0$/);

    await step(J, 'Set Axes… → "layer,batch,head,query,key"', async () => {
      await wb.runCommand('Attention: Set Axes…');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await waitFor('the Set Axes input box', async () => ((await input.inputValue()).includes(',') ? true : undefined), 10_000);
      await input.fill('layer,batch,head,query,key');
      await page.keyboard.press('Enter');
    });
    await step(J, 'the header says batch 0 of 3 · layer 0 · head 0', () =>
      waitFor('the renamed axes in the header', async () =>
        ((await visibleText(frame.locator('#subtitle'))).endsWith('batch 0 of 3 · layer 0 · head 0') && (await bodyData(frame, 'state')) === 'ready' ? true : undefined), 20_000, 200));
    assert.strictEqual(await frame.locator('#axis-picker-0 option').count(), 3);
    assert.strictEqual(await frame.locator('#grid .grid-cell').count(), 4, '2 layers × 2 heads');
    await step(J, `hover row ${row} col ${col} of batch 0 (${expected.dump.batch0.toFixed(3)})`, () =>
      hoverUntil(page, frame, 'batch 0 cell', showsCell(row, col, expected.dump.batch0), { row, col }));

    await step(J, 'pick batch 2 in the header', () => frame.locator('#axis-picker-0').selectOption('2'));
    await step(J, 'the header says batch 2 of 3', () =>
      waitFor('batch 2 in the header', async () =>
        ((await visibleText(frame.locator('#subtitle'))).endsWith('batch 2 of 3 · layer 0 · head 0') && (await bodyData(frame, 'state')) === 'ready' ? true : undefined), 20_000, 200));
    const cell = await step(J, `hover row ${row} col ${col} of batch 2 (${expected.dump.batch2.toFixed(3)}, NumPy)`, () =>
      hoverUntil(page, frame, 'batch 2 cell', showsCell(row, col, expected.dump.batch2), { row, col }));
    assert.ok(!cell.tooltip.includes(`(${expected.dump.batch0.toFixed(3)})`));
    assert.strictEqual(await frame.locator('#axis-picker-0').inputValue(), '2');
    await wb.screenshot('1x-dump-batch-picker');
  });

  it('computes per-head Q [8, T, d] with K, V [2, T, d] from the palette into a grid of 8 heads', async () => {
    const wb = workbench();
    const page = wb.page;
    await wb.reset();
    await step(J, 'run "Attention: Compute Attention from Q, K, V…"', () => wb.runCommand('Attention: Compute Attention from Q, K, V…'));
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('.quick-input-box input');
    const answered: string[] = [];
    // Q, K and V by typing their file names; every other question keeps its default (dot, 1/√d, no mask).
    for (let n = 0; n < 8; n++) {
      const next = await waitFor('the next quick pick or the result heatmap', async () => {
        for (const f of await wb.webviewFrames('#heatmap')) {
          if ((await bodyData(f, 'state')) === 'ready' && (await f.locator('#grid .grid-cell').count()) === 8) return 'done' as const;
        }
        if (!(await widget.isVisible()) || (await input.inputValue()).startsWith('>')) return undefined;
        const prompt = `${await widget.locator('.quick-input-title').innerText().catch(() => '')} ${(await input.getAttribute('placeholder')) ?? ''}`;
        const items = await widget.locator('.quick-input-list .monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
        return items.length > 0 ? { prompt, items } : undefined;
      }, 20_000, 200);
      if (next === 'done') break;
      const role = /\bQ:/.test(next.prompt) ? 'q' : /\bK:/.test(next.prompt) ? 'k' : /\bV:/.test(next.prompt) ? 'v' : undefined;
      if (role) {
        const name = `j1x-gqa-${role}.npy`;
        await input.fill(name);
        await waitFor(`"${name}" to be the focused item`, async () => {
          const label = (await widget.locator('.quick-input-list .monaco-list-row.focused').first().getAttribute('aria-label', { timeout: 500 })) ?? '';
          return label.startsWith(name) ? true : undefined;
        }, 5_000);
      }
      answered.push(`${next.prompt.trim()} → ${role ? `j1x-gqa-${role}.npy` : '(default)'}`);
      await page.keyboard.press('Enter');
      // Each question has its own title ("Compute Attention (2/6)"): wait for it to change.
      await waitFor('the quick pick to move on', async () => {
        if (!(await widget.isVisible())) return true;
        const prompt = `${await widget.locator('.quick-input-title').innerText().catch(() => '')} ${(await input.getAttribute('placeholder')) ?? ''}`;
        return prompt !== next.prompt ? true : undefined;
      }, 10_000).catch(() => undefined);
    }
    console.log(`      quick picks answered: ${JSON.stringify(answered)}`);

    const frame = await step(J, 'the heads grid shows 8 heads and head 0 as a 6×6 map', () =>
      wb.heatmap('GQA result', async (f) => (await bodyData(f, 'rows')) === '6' && (await f.locator('#grid .grid-cell').count()) === 8));
    const { head, row, col } = expected.gqa;
    await step(J, `hover row ${row} col ${col} of head 0 (${expected.gqa.head0.toFixed(3)})`, () =>
      hoverUntil(page, frame, 'head 0 cell', showsCell(row, col, expected.gqa.head0), { row, col }));
    await step(J, `click head ${head} in the grid`, () => frame.locator(`#grid .grid-cell[data-layer="0"][data-head="${head}"]`).click());
    await step(J, `the header says head ${head} of 8 reads KV head 1 of 2`, () =>
      waitFor('head 5 in the header', async () =>
        (/^head 5 of 8 · KV head 1 of 2 · dot/.test(await visibleText(frame.locator('#subtitle'))) && (await bodyData(frame, 'state')) === 'ready' ? true : undefined), 20_000, 200));
    const cell = await step(J, `hover row ${row} col ${col} of head ${head} (${expected.gqa.weight.toFixed(3)}, NumPy)`, () =>
      hoverUntil(page, frame, `head ${head} cell`, showsCell(row, col, expected.gqa.weight), { row, col }));
    assert.ok(cell.tooltip.includes(`${(expected.gqa.weight * 100).toFixed(1)}%`));
    await wb.screenshot('1x-gqa-heads-grid');
  });
});
