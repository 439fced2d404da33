// Journey 8: labels are untrusted text. HTML in keyLabels/valueLabels shows literally and nothing in it runs.
import * as assert from 'assert';
import { workbench } from '../support/hooks';
import { bodyData, step, visibleText, waitFor } from '../support/workbench';
import { hoverUntil } from '../support/heatmap';

const J = 'journey 8 (HTML in labels)';
const IMG = '<img src=x onerror="window.__pwned=1">';
const SVG = '<svg onload="window.__pwned=3">';

describe('journey 8: labels with HTML render as text', () => {
  before(async () => workbench().reset());

  it('shows <img …> literally in the tooltip and the detail, and window.__pwned stays undefined', async () => {
    const wb = workbench();
    const page = wb.page;
    await step(J, 'open fixtures/html-labels.attention.json and its heatmap', async () => {
      await wb.openFile('fixtures/html-labels.attention.json');
      await wb.runCommand('Attention: Open Attention Heatmap');
    });
    const frame = await step(J, 'the heatmap draws', () => wb.heatmap('html labels', async (f) => (await bodyData(f, 'cols')) === '3'));
    // NumPy: softmax([1, 0, 1] / √2) = [0.401, 0.198, 0.401].
    const first = await step(J, 'hover the first key: its label shows literally', () =>
      hoverUntil(page, frame, `the key labelled ${IMG}`, (t) => t.includes(IMG), { row: 0, col: 0 }));
    assert.ok(first.tooltip.includes('40.1% (0.401)'), `tooltip: ${JSON.stringify(first.tooltip)}`);
    await step(J, 'click to pin: #detail shows the value label literally', async () => {
      await page.mouse.click(first.point.x, first.point.y);
      await waitFor(`#detail to contain ${SVG}`, async () => ((await visibleText(frame.locator('#detail'))).includes(SVG) ? true : undefined), 10_000);
    });
    await step(J, 'nothing from the labels became markup or ran', async () => {
      assert.strictEqual(await frame.locator('img[src="x"], svg[onload]').count(), 0, 'label markup was inserted as HTML');
      assert.strictEqual(await frame.locator('script', { hasText: '__pwned' }).count(), 0, 'a label became a <script>');
      for (const f of page.frames()) {
        const pwned = await f.evaluate(() => (globalThis as Record<string, unknown>).__pwned).catch(() => undefined);
        assert.strictEqual(pwned, undefined, `window.__pwned was set in frame ${f.url()}`);
      }
    });
    await wb.screenshot('08-html-labels');
  });
});
