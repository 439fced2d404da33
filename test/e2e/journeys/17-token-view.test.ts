// Journey 17: reading attention as text. In the sentence sample's heatmap, hovering "bank" in the token view tints
// "river" with bank's weight on it and says so; searching "the" counts its hits and moves the map to the hit;
// Ctrl-clicking "river" and "bank" shows their summed row. Expected numbers are NumPy's
// (test/fixtures/tokens/make_fixtures.py → sentence-tokens.json).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame } from 'playwright-core';
import { canvasBox } from '../support/heatmap';
import { workbench } from '../support/hooks';
import { bodyData, repoRoot, resultsDir, step, visibleText, waitFor } from '../support/workbench';

const J = 'journey 17 (token view)';

interface Fixture {
  tokens: string[]; bank: number; river: number; bankToRiver: number;
  selection: number[]; selectionSum: number[];
  searchThe: { insensitive: number[]; sensitive: number[] };
}
const fx = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/fixtures/tokens/sentence-tokens.json'), 'utf8')) as Fixture;

async function visibleRows(frame: Frame): Promise<[number, number]> {
  const v = (await bodyData(frame, 'visible')) ?? '';
  const [r0, r1] = v.split(',').map(Number);
  return [r0, r1];
}

describe('journey 17: the token view reads attention as text', () => {
  before(async () => workbench().reset());

  it('hovering "bank" tints "river" with its weight, search counts and moves the map, two selected tokens show their summed row', async () => {
    const wb = workbench();
    const page = wb.page;
    await step(J, 'open sentence.attention.json and its heatmap', async () => {
      await wb.openFile('sentence.attention.json');
      await wb.runCommand('Attention: Open Attention Heatmap');
    });
    const frame = await step(J, 'the heatmap draws with its eight tokens as text', () =>
      wb.heatmap('sentence heatmap', async (f) => (await bodyData(f, 'tokens')) === '8', 30_000));
    for (let i = 0; i < fx.tokens.length; i++) {
      assert.strictEqual(await frame.locator(`#token-q-${i}`).textContent(), fx.tokens[i], `token ${i} as text`);
    }

    const expected = `${(fx.bankToRiver * 100).toFixed(1)}%`;
    await step(J, `hover "bank": "river" is tinted with ${expected}`, async () => {
      await frame.locator(`#token-q-${fx.bank}`).hover();
      const summary = await waitFor('the token summary to name bank', async () => {
        const text = await visibleText(frame.locator('#token-summary'));
        return text.includes('“bank”') ? text : undefined;
      }, 10_000);
      assert.ok(summary.includes(`river ${expected}`), `summary should give river ${expected}: ${JSON.stringify(summary)}`);
      const river = frame.locator(`#token-q-${fx.river}`);
      const weight = Number(await river.getAttribute('data-weight'));
      assert.ok(Math.abs(weight - fx.bankToRiver) < 1e-6, `river's weight from bank ${weight}, NumPy ${fx.bankToRiver}`);
      assert.match((await river.getAttribute('class')) ?? '', /\btinted\b/);
      assert.match((await frame.locator(`#token-q-${fx.bank}`).getAttribute('class')) ?? '', /\bhovered\b/);
    });

    await step(J, 'search "the": 2 tokens, 1 with Match case', async () => {
      await frame.locator('#token-search').fill('the');
      await waitFor('2 hits', async () => ((await frame.locator('#token-hits').getAttribute('data-hits')) === String(fx.searchThe.insensitive.length) ? true : undefined), 5_000);
      for (const i of fx.searchThe.insensitive) assert.match((await frame.locator(`#token-q-${i}`).getAttribute('class')) ?? '', /\bhit\b/);
      await frame.locator('#token-case').click();
      await waitFor('1 hit', async () => ((await frame.locator('#token-hits').getAttribute('data-hits')) === String(fx.searchThe.sensitive.length) ? true : undefined), 5_000);
    });

    const hit = fx.searchThe.sensitive[0];
    await step(J, `zoom into the top rows, then Enter moves the map to row ${hit}`, async () => {
      const box = await canvasBox(frame);
      await page.mouse.move(box.x + 4, box.y + 4);
      for (let i = 0; i < 6; i++) await page.mouse.wheel(0, -400);
      const [r0, r1] = await waitFor('the map to zoom in', async () => {
        const r = await visibleRows(frame);
        return r[1] - r[0] < fx.tokens.length && r[1] <= hit ? r : undefined;
      }, 5_000);
      assert.ok(hit >= r1, `row ${hit} should be off screen before stepping (rows ${r0}–${r1} shown)`);
      await frame.locator('#token-search').press('Enter');
      await waitFor(`row ${hit} on screen`, async () => {
        const [a, b] = await visibleRows(frame);
        return a <= hit && hit < b ? true : undefined;
      }, 5_000);
      assert.strictEqual(await visibleText(frame.locator('#token-hits')), '1 of 1');
      assert.match((await frame.locator(`#token-q-${hit}`).getAttribute('class')) ?? '', /\bcurrent-hit\b/);
    });

    await step(J, 'Ctrl-click "river" and "bank": #selection shows their summed row (NumPy)', async () => {
      await frame.locator('#token-search').fill('');
      await frame.locator('#reset-view').click();
      for (const i of fx.selection) await frame.locator(`#token-q-${i}`).click({ modifiers: ['Control'] });
      await waitFor('#selection to show 2 tokens', async () => ((await visibleText(frame.locator('#selection h2'))) === '2 tokens' ? true : undefined), 10_000);
      for (let j = 0; j < fx.selectionSum.length; j++) {
        const sum = Number(await frame.locator(`#selection li[data-key="${j}"]`).getAttribute('data-sum'));
        assert.ok(Math.abs(sum - fx.selectionSum[j]) < 1e-6, `summed row at ${fx.tokens[j]}: ${sum}, NumPy ${fx.selectionSum[j]}`);
      }
      assert.strictEqual(await frame.locator('#selection-row-label').textContent(), 'mean of 2');
    });

    await step(J, 'a picture of the token view', async () => {
      await frame.locator('#token-search').fill('the');
      await page.mouse.move(2, 2);
      await frame.locator(`#token-q-${fx.bank}`).hover();
      await waitFor('bank hovered', async () => ((await visibleText(frame.locator('#token-summary'))).includes('“bank”') ? true : undefined), 5_000);
      fs.mkdirSync(resultsDir, { recursive: true });
      await frame.locator('body').screenshot({ path: path.join(resultsDir, '17-token-view-panel.png') });
    });
    await wb.screenshot('17-token-view');
  });
});
