// Journey 16: a dump with tokens shows the head table beside the grid; sorting by induction puts the one induction
// head (layer 2 head 1, engineered by test/fixtures/heads/make_fixtures.py) on top, and clicking it opens it.
import * as assert from 'assert';
import type { Frame } from 'playwright-core';
import { workbench } from '../support/hooks';
import { bodyData, step, visibleText, waitFor } from '../support/workbench';

const J = 'journey 16 (head table)';
const FILE = 'fixtures/heads-induction.npz';

/** [layer, head] of the table's rows, top to bottom. */
async function rowOrder(frame: Frame): Promise<number[][]> {
  return frame.locator('#head-table tbody tr').evaluateAll((rows) => rows.map((r) => [Number(r.getAttribute('data-layer')), Number(r.getAttribute('data-head'))]));
}

async function column(frame: Frame, metric: string): Promise<number[]> {
  return frame.locator(`#head-table tbody td[data-metric="${metric}"]`).evaluateAll((cells) => cells.map((c) => Number(c.textContent)));
}

describe('journey 16: the head table sorts by induction and opens the top head', () => {
  before(async () => workbench().reset());

  it('sorts by induction (mouse) and bos (keyboard), opens the top head, tints the grid', async () => {
    const wb = workbench();
    await step(J, `open ${FILE}`, () => wb.openFile(FILE));
    const frame = await step(J, 'the head table lists all 12 heads, with token metrics from the tokens member', () =>
      wb.webviewFrame('#head-table', 'heads-induction.npz head table', async (f) =>
        (await f.locator('#head-table tbody tr').count()) === 12 && (await f.locator('#head-table th[data-metric="induction"]').count()) === 1, 60_000));
    assert.match(await visibleText(frame.locator('#head-tokens-note')), /tokens member of heads-induction\.npz/);
    assert.strictEqual(await frame.locator('#grid .grid-cell').count(), 12);

    await step(J, 'click the induction header', () => frame.locator('#head-table th[data-metric="induction"] button').click());
    await step(J, 'the table is sorted by induction, highest first', () =>
      waitFor('aria-sort=descending on induction', async () =>
        ((await frame.locator('#head-table th[data-metric="induction"]').getAttribute('aria-sort')) === 'descending' ? true : undefined), 10_000));
    const order = await rowOrder(frame);
    assert.deepStrictEqual(order[0], [2, 1], `top head by induction: ${JSON.stringify(order.slice(0, 3))}`);
    const induction = await column(frame, 'induction');
    assert.deepStrictEqual(induction, [...induction].sort((a, b) => b - a));
    assert.ok(induction[0] > 0.45 && induction[0] < 0.5, `NumPy: induction of L2 H1 = 0.472, got ${induction[0]}`);
    await wb.screenshot('16-heads-sorted');

    await step(J, 'click the top row', () => frame.locator('#head-table tbody tr').first().click());
    await step(J, 'the panel now shows layer 2 head 1', () =>
      waitFor('subtitle "layer 2 · head 1" and the pressed grid cell', async () =>
        (await bodyData(frame, 'state')) === 'ready'
          && (await visibleText(frame.locator('#subtitle'))).includes('layer 2 · head 1')
          && (await frame.locator('#grid .grid-cell[data-layer="2"][data-head="1"]').getAttribute('aria-pressed')) === 'true'
          && (await frame.locator('#head-table tbody tr[data-layer="2"][data-head="1"]').getAttribute('aria-selected')) === 'true'
          ? true : undefined, 30_000, 200));
    assert.strictEqual(await bodyData(frame, 'rows'), '31');
    const near = await step(J, 'heads like this one are listed, clickable', () =>
      waitFor('#near-heads buttons', async () => ((await frame.locator('#near-heads button.near-head').count()) === 5 ? true : undefined), 30_000));
    assert.ok(near);
    assert.match(await visibleText(frame.locator('#near-heads h3')), /Heads like L2 H1/);

    // Keyboard: focus the "first token" header and press Enter; the sink head (layer 1 head 3) comes first.
    await step(J, 'sort by first token with the keyboard', async () => {
      await frame.locator('#head-table th[data-metric="bos"] button').focus();
      await wb.page.keyboard.press('Enter');
      await waitFor('aria-sort on bos', async () =>
        ((await frame.locator('#head-table th[data-metric="bos"]').getAttribute('aria-sort')) === 'descending' ? true : undefined), 10_000);
    });
    assert.deepStrictEqual((await rowOrder(frame))[0], [1, 3]);

    await step(J, 'tint the grid by induction', () => frame.locator('#head-tint').selectOption('induction'));
    await step(J, 'the induction head gets the full bar and the legend says so', () =>
      waitFor('--head-metric on L2 H1', async () =>
        /--head-metric:\s*1\.0000/.test((await frame.locator('#grid .grid-cell[data-layer="2"][data-head="1"]').getAttribute('style')) ?? '')
          && /induction/.test(await visibleText(frame.locator('#head-legend'))) ? true : undefined, 10_000));
    await step(J, 'sort by induction again', () => frame.locator('#head-table th[data-metric="induction"] button').click());
    await waitFor('aria-sort on induction', async () =>
      ((await frame.locator('#head-table th[data-metric="induction"]').getAttribute('aria-sort')) === 'descending' ? true : undefined), 10_000);
    assert.deepStrictEqual((await rowOrder(frame))[0], [2, 1]);
    await wb.screenshot('16-heads'); // the README's docs/screenshot-heads.png
  });
});
