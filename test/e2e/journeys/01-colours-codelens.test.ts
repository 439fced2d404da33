// Journey 1: the worked example from the seed text. Open colours.attention.json, use the CodeLens, hover the first
// key and read its weight, click to pin the row and read the warm/cool breakdown.
import * as assert from 'assert';
import { workbench } from '../support/hooks';
import { bodyData, step, visibleText, waitFor } from '../support/workbench';
import { hoverUntil } from '../support/heatmap';
import type { Frame } from 'playwright-core';

const J = 'journey 1 (colours via CodeLens)';

describe('journey 1: colours.attention.json → CodeLens → heatmap → hover → pin', () => {
  before(async () => workbench().reset());

  it('shows 15.0% (0.150) for the first key and 48.8% warm / 51.2% cool for the pinned row', async () => {
    const wb = workbench();
    const page = wb.page;
    await step(J, 'open colours.attention.json with Quick Open', () => wb.openFile('colours.attention.json'));

    const lens = page.locator('.editor-group-container.active .codelens-decoration a')
      .filter({ hasText: /show heatmap|compute attention/i }).first();
    await step(J, 'a CodeLens "Show heatmap"/"Compute attention" appears', () => lens.waitFor({ state: 'visible', timeout: 20_000 }));
    const lensTitle = (await lens.innerText()).trim();
    await step(J, `click the CodeLens "${lensTitle}"`, () => lens.click());

    const frame: Frame = await step(J, 'the heatmap panel opens and draws (body[data-state=ready])', () =>
      wb.heatmap('colours heatmap', async (f) => (await bodyData(f, 'cols')) === '8', 30_000));
    assert.strictEqual(await bodyData(frame, 'rows'), '1', 'one query colour → one row');
    assert.strictEqual(await bodyData(frame, 'cols'), '8', 'eight key colours → eight columns');

    const first = await step(J, 'hover the first key (#fef0d9) and read the tooltip', () =>
      hoverUntil(page, frame, 'the first key #fef0d9', (t) => t.includes('#fef0d9'), { row: 0, col: 0 }));
    assert.ok(first.tooltip.includes('15.0% (0.150)'), `tooltip of the first key should say 15.0% (0.150): ${JSON.stringify(first.tooltip)}`);

    await step(J, 'click the cell to pin the row; #detail shows the output', async () => {
      await page.mouse.click(first.point.x, first.point.y);
      const detail = await waitFor('#detail to show the warm/cool breakdown', async () => {
        const text = await visibleText(frame.locator('#detail'));
        return /48\.8%\s*warm/.test(text) && /51\.2%\s*cool/.test(text) ? text : undefined;
      }, 10_000).catch(async (err: Error) => {
        throw new Error(`${err.message}; #detail reads ${JSON.stringify(await visibleText(frame.locator('#detail')))}`);
      });
      assert.match(detail, /48\.8%\s*warm/);
    });
    await wb.screenshot('01-colours-codelens');
  });
});
