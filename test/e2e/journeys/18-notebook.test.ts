// Journey 18: a saved notebook opened with no kernel and no Jupyter extension. The outputs the Python helper made
// (samples/attention.ipynb) draw through the notebook renderer: hover reads the weight, a click pins the row, a
// grid cell opens its head; the token view under a map reads the same weights as text. A malformed payload shows its message and the other outputs still work.
// Notebook outputs live in a nested webview iframe, each in its own shadow root (Playwright's CSS locators pierce
// open shadow roots); every output is found by its title.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame, Locator, Page } from 'playwright-core';
import { decodePayload, NOTEBOOK_MIME, type NotebookPayload } from '../../../src/shared/notebookPayload';
import { formatWeight } from '../../../src/shared/format';
import { labelOf } from '../../../src/shared/labels';
import { searchTokens } from '../../../src/shared/tokenSearch';
import { displayToken } from '../../../src/shared/tokenText';
import { workbench } from '../support/hooks';
import { readPngInfo } from '../support/files';
import { repoRoot, sleep, step, visibleText, waitFor } from '../support/workbench';
import type { Workbench } from '../support/workbench';

const J = 'journey 18 (notebook renderer)';

/** The payloads of a committed notebook, decoded as the renderer decodes them (the expected numbers come from them). */
function payloadsOf(file: string): Record<string, NotebookPayload> {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { outputs?: { data: Record<string, unknown> }[] }[] };
  const out: Record<string, NotebookPayload> = {};
  for (const o of nb.cells.flatMap((c) => c.outputs ?? [])) {
    try {
      const p = decodePayload(o.data[NOTEBOOK_MIME]);
      out[p.title] = p;
    } catch {
      // the malformed one: its message is checked in the UI
    }
  }
  return out;
}

function weightAt(p: NotebookPayload, layer: number, head: number, row: number, col: number): string {
  return formatWeight(p.weights[((layer * p.heads + head) * p.rows + row) * p.cols + col]);
}

/** The notebook's output webview frame, once an output with this title has drawn. */
async function outputFrame(wb: Workbench, title: string): Promise<Frame> {
  return wb.webviewFrame('.attention-output', `the notebook output "${title}"`, async (f) =>
    (await output(f, title).getAttribute('data-state', { timeout: 500 }).catch(() => null)) === 'ready');
}

function output(frame: Frame, title: string): Locator {
  return frame.locator('.attention-output', { has: frame.locator(`#title:text-is("${title}")`) });
}

/**
 * Brings an element of an output on screen (by default its map): the notebook scrolls its list, not the webview's
 * document, so the wheel goes to the notebook editor until the element has a size and lies inside the editor.
 */
async function scrollTo(page: Page, out: Locator, what: string, target = out.locator('#heatmap')): Promise<void> {
  const editor = page.locator('.notebook-editor').first();
  const area = await editor.boundingBox();
  if (!area) throw new Error('no notebook editor on screen');
  await waitFor(`${what} to scroll into view`, async () => {
    const box = await target.boundingBox().catch(() => null);
    if (box && box.height > 2 && box.y >= area.y && box.y + box.height <= area.y + area.height) return true;
    await page.mouse.move(area.x + area.width / 2, area.y + area.height / 2);
    await page.mouse.wheel(0, box && box.y < area.y ? -200 : 200);
    await sleep(150);
    return undefined;
  }, 20_000, 50);
}

/** Scrolls the notebook down (outputs below the fold are only rendered once near the screen) until `probe` answers. */
async function scrollUntil<T>(page: Page, what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  return waitFor(what, async () => {
    const found = await probe();
    if (found !== undefined) return found;
    const area = await page.locator('.notebook-editor').first().boundingBox();
    if (area) {
      await page.mouse.move(area.x + area.width / 2, area.y + area.height / 2);
      await page.mouse.wheel(0, 250);
    }
    await sleep(200);
    return undefined;
  }, timeoutMs, 50);
}

/**
 * The centre of an element of an output, once it lies clear of the notebook's toolbar (which covers the editor's top
 * edge) and inside the editor: Playwright's own scrolling moves the output's document, not the notebook's list.
 */
async function pointAt(page: Page, target: Locator, what: string): Promise<{ x: number; y: number }> {
  return waitFor(`${what} to be clear on screen`, async () => {
    const area = await page.locator('.notebook-editor').first().boundingBox();
    const box = await target.boundingBox().catch(() => null);
    if (!area || !box) return undefined;
    const above = box.y < area.y + 60;
    if (above || box.y + box.height > area.y + area.height - 10) {
      await page.mouse.move(area.x + area.width / 2, area.y + area.height / 2);
      await page.mouse.wheel(0, above ? -120 : 120);
      await sleep(200);
      return undefined;
    }
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  }, 20_000, 50);
}

/** Hovers cell (row, col) of an output's map (the stage is exactly the map at fit) and returns the tooltip text. */
async function hoverCell(page: Page, out: Locator, row: number, col: number, wanted: string): Promise<{ x: number; y: number; tooltip: string }> {
  const box = await out.locator('#heatmap').boundingBox();
  if (!box) throw new Error('the output has no #heatmap on screen');
  const rows = Number(await out.getAttribute('data-rows'));
  const cols = Number(await out.getAttribute('data-cols'));
  const p = { x: box.x + ((col + 0.5) * box.width) / cols, y: box.y + ((row + 0.5) * box.height) / rows };
  let tooltip = '';
  await waitFor(`the tooltip of row ${row} col ${col} to read ${wanted}`, async () => {
    await page.mouse.move(p.x - 3, p.y - 3);
    await page.mouse.move(p.x, p.y);
    tooltip = await visibleText(out.locator('#tooltip'));
    return tooltip.includes(wanted) ? true : undefined;
  }, 10_000, 200).catch((err: Error) => {
    err.message += `; the tooltip read ${JSON.stringify(tooltip)}`;
    throw err;
  });
  return { ...p, tooltip };
}

/**
 * Keys typed while an output's element has focus go to the notebook's webview, not the workbench: clicking the
 * editor tab gives focus back, so F1 and Ctrl+P reach VS Code again.
 */
async function leaveOutputs(wb: Workbench): Promise<void> {
  const tab = wb.page.locator('.editor-group-container.active .tab.active').first();
  // A click that lands while the notebook is still busy can leave focus in the outputs' iframe: click until it moves.
  for (let attempt = 0; attempt < 5; attempt++) {
    if ((await tab.count()) > 0) await tab.click();
    await sleep(200);
    if ((await wb.page.evaluate('document.activeElement && document.activeElement.tagName')) !== 'IFRAME') return;
  }
}

/** A clean workbench with the whole editor area for the notebook (an earlier journey may leave the Problems panel open). */
async function cleanSlate(wb: Workbench): Promise<void> {
  await leaveOutputs(wb);
  await wb.reset();
  const panel = wb.page.locator('.part.panel').first();
  if ((await panel.count()) > 0 && (await panel.isVisible())) {
    await wb.page.keyboard.press('Control+J'); // toggles the panel
    await waitFor('the panel to hide', async () => ((await panel.isVisible()) ? undefined : true), 5_000);
  }
}

describe('journey 18: attention inline in a notebook, without a kernel', () => {
  before(async () => cleanSlate(workbench()));
  afterEach(async () => leaveOutputs(workbench()).catch(() => undefined));

  it('draws the saved outputs: hover reads the weight, a click pins the row, a grid cell opens its head', async function () {
    this.timeout(240_000);
    const wb = workbench();
    const page = wb.page;
    const payloads = payloadsOf(path.join(repoRoot, 'samples', 'attention.ipynb'));
    const one = payloads['one head'];
    const grid = payloads['2 layers × 4 heads'];
    assert.ok(one && grid, 'the sample notebook has the "one head" and grid outputs');

    await step(J, 'open attention.ipynb (built-in notebook support, no kernel)', () => wb.openFile('attention.ipynb'));
    const frame = await step(J, 'the "one head" output draws', () => outputFrame(wb, 'one head'));
    const first = output(frame, 'one head');
    assert.strictEqual(await first.getAttribute('data-rows'), '8');
    await step(J, 'scroll the "one head" map into view', () => scrollTo(page, first, '"one head"'));

    // Row " bank" leans on " river": softmax([0, 3, 2]) → 70.5% (NumPy, through the helper's float32 payload).
    const want = weightAt(one, 0, 0, 2, 1);
    assert.strictEqual(want, '70.5% (0.705)');
    const hovered = await step(J, 'hover " bank" × " river": the weight', () => hoverCell(page, first, 2, 1, `weight ${want}`));
    assert.match(hovered.tooltip, /query 2\s+bank/);
    assert.match(hovered.tooltip, /key 1\s+river/);
    await step(J, 'click: the pinned row lists the row\'s weights', async () => {
      await page.mouse.click(hovered.x, hovered.y);
      await waitFor('#detail with " river" 70.5%', async () => {
        const text = await visibleText(first.locator('#detail'));
        return text.includes('river') && text.includes('70.5%') && text.includes('25.9%') ? true : undefined;
      }, 10_000);
    });

    // No extension host behind an output: Export PNG hands VS Code a blob link, and VS Code asks where to save it.
    const target = path.join(wb.workspace, 'j18-one-head.png');
    await step(J, 'Export PNG → the save dialog → a PNG file', async () => {
      await first.locator('#export-png').click();
      await wb.answerSaveDialog(target);
      await waitFor(`${target} to be written`, async () => {
        if (!fs.existsSync(target) || fs.statSync(target).size < 33) return undefined;
        try { return readPngInfo(target); } catch { return undefined; }
      }, 20_000, 200);
    });
    const png = readPngInfo(target);
    console.log(`      exported ${png.width}×${png.height} PNG, ${png.bytes} bytes`);
    assert.ok(png.width > 100 && png.height > 100, `PNG size ${png.width}×${png.height}`);
    // VS Code opens the saved picture; the notebook comes back for the rest of the journey.
    await step(J, 'back to the notebook', async () => {
      await leaveOutputs(wb);
      await wb.openFile('attention.ipynb');
    });

    // Export CSV: the shown weights with the tokens on both axes, written where the save dialog says.
    const csvTarget = path.join(wb.workspace, 'j18-one-head.csv');
    await step(J, 'Export CSV → the save dialog → the weights as CSV', async () => {
      await first.locator('#export-csv').click();
      await wb.answerSaveDialog(csvTarget);
      await waitFor(`${csvTarget} to be written`, async () =>
        (fs.existsSync(csvTarget) && fs.readFileSync(csvTarget, 'utf8').trim().split('\n').length === 9 ? true : undefined), 20_000, 200);
    });
    const table = fs.readFileSync(csvTarget, 'utf8').trim().split('\n').map((l) => l.split(','));
    console.log(`      exported CSV: ${JSON.stringify(table[0])}`);
    assert.strictEqual(table[0][0], 'query\\key');
    const river = table[0].indexOf(' river');
    const bank = table.findIndex((r) => r[0] === ' bank');
    assert.ok(river > 0 && bank > 0, `the header names " river" and a row " bank": ${JSON.stringify(table.map((r) => r[0]))}`);
    assert.ok(Math.abs(Number(table[bank][river]) - 0.705) < 5e-4, `" bank" → " river" is ${table[bank][river]}`);
    for (const r of table.slice(1)) {
      const sum = r.slice(1).reduce((a, x) => a + Number(x), 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `row ${r[0]} sums to ${sum}`);
    }
    await step(J, 'back to the notebook after the CSV', async () => {
      await leaveOutputs(wb);
      await wb.openFile('attention.ipynb');
    });

    const second = output(frame, '2 layers × 4 heads');
    await step(J, 'scroll to the [2, 4, 8, 8] output', async () => {
      await scrollUntil(page, 'the grid output to draw', async () =>
        ((await second.getAttribute('data-state', { timeout: 500 }).catch(() => null)) === 'ready' ? true : undefined));
      await scrollTo(page, second, 'the grid output');
    });
    const cells = await second.locator('#grid .grid-cell').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-layer')}/${e.getAttribute('data-head')}`));
    assert.deepStrictEqual(cells, ['0/0', '0/1', '0/2', '0/3', '1/0', '1/1', '1/2', '1/3']);
    await step(J, 'click the grid cell layer 1 head 2', async () => {
      const cell = second.locator('#grid .grid-cell[data-layer="1"][data-head="2"]');
      await scrollTo(page, second, 'the grid', second.locator('#grid'));
      const box = await cell.boundingBox();
      if (!box) throw new Error('the grid cell has no box');
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await waitFor('layer 1 head 2 to be shown', async () =>
        (await cell.getAttribute('aria-pressed')) === 'true' && (await visibleText(second.locator('#subtitle'))).startsWith('layer 1 · head 2') ? true : undefined, 10_000);
    });
    await step(J, 'scroll the head\'s map back into view', () => scrollTo(page, second, 'the grid output\'s map'));
    const headWant = weightAt(grid, 1, 2, 5, 0);
    const head = await step(J, `hover layer 1 head 2, " after" × "The": ${headWant}`, () => hoverCell(page, second, 5, 0, `weight ${headWant}`));
    assert.match(head.tooltip, new RegExp(`key 0\\s+${labelOf(grid.keyLabels, 0)}`));
    await wb.screenshot('18-notebook');
  });

  it('shows a malformed payload\'s message while the other outputs still draw and hover', async function () {
    this.timeout(180_000);
    const wb = workbench();
    const page = wb.page;
    await cleanSlate(wb);
    const source = path.join(repoRoot, 'test', 'fixtures', 'notebook', 'malformed.ipynb');
    fs.copyFileSync(source, path.join(wb.workspace, 'malformed.ipynb'));
    const payloads = payloadsOf(source);

    await step(J, 'open malformed.ipynb', () => wb.openFile('malformed.ipynb'));
    const frame = await step(J, 'the good output before it draws', () => outputFrame(wb, 'one head'));
    const message = await step(J, 'the damaged output shows its message', () =>
      scrollUntil(page, '#error in the damaged output', async () =>
        (await visibleText(frame.locator('.attention-output[data-state="error"] #error'))) || undefined));
    assert.strictEqual(message, 'Attention Inspector cannot show this output: weights.data is not valid base64 (character "!" at 0)');
    assert.strictEqual(await frame.locator('.attention-output[data-state="error"] #heatmap').count(), 0, 'nothing drawn for it');

    const after = output(frame, 'still working');
    await step(J, 'the output after it draws', () => scrollUntil(page, '"still working" to be ready', async () =>
      ((await after.getAttribute('data-state', { timeout: 500 }).catch(() => null)) === 'ready' ? true : undefined)));
    await step(J, 'scroll it into view', () => scrollTo(page, after, '"still working"'));
    const p = payloads['still working'];
    const want = weightAt(p, 0, 0, 7, 7);
    const t = await step(J, `hover its last cell: ${want} and the token <b>rain</b> as text`, () => hoverCell(page, after, 7, 7, `weight ${want}`));
    assert.ok(t.tooltip.includes('<b>rain</b>'), `the token shows literally: ${JSON.stringify(t.tooltip)}`);
    assert.strictEqual(await frame.locator('.attention-output b').count(), 0, 'a token became markup');
    await wb.screenshot('18-notebook-malformed');
  });

  it('has the token view under the map: hovering " bank" tints " river", search counts, two tokens give their summed row', async function () {
    this.timeout(180_000);
    const wb = workbench();
    const page = wb.page;
    await cleanSlate(wb);
    const one = payloadsOf(path.join(repoRoot, 'samples', 'attention.ipynb'))['one head'];
    const tokens = one.queryLabels ?? [];
    const bank = tokens.indexOf(' bank');
    const river = tokens.indexOf(' river');
    assert.ok(bank >= 0 && river >= 0, 'the "one head" output has the tokens " bank" and " river"');
    // The helper's float32 payload as NumPy wrote it: row " bank", column " river".
    const bankToRiver = one.weights[bank * one.cols + river];

    await step(J, 'open attention.ipynb', () => wb.openFile('attention.ipynb'));
    const frame = await step(J, 'the "one head" output draws', () => outputFrame(wb, 'one head'));
    const out = output(frame, 'one head');
    await waitFor('the token view to be shown', async () => ((await out.getAttribute('data-tokens')) === String(tokens.length) ? true : undefined), 10_000);
    for (let i = 0; i < tokens.length; i++) {
      assert.strictEqual(await out.locator(`#token-q-${i}`).textContent(), displayToken(tokens[i]), `token ${i} as text`);
    }
    const bankSpan = out.locator(`#token-q-${bank}`);
    await step(J, 'scroll the token text into view', () => scrollTo(page, out, 'the token text', out.locator('#tokens')));
    const expected = weightAt(one, 0, 0, bank, river);
    assert.strictEqual(expected, '70.5% (0.705)');
    await step(J, `hover " bank": " river" is tinted with ${expected}`, async () => {
      const summary = await waitFor('the token summary to name bank', async () => {
        const p = await pointAt(page, bankSpan, '" bank"');
        await page.mouse.move(p.x, p.y - 6);
        await page.mouse.move(p.x, p.y);
        const text = await visibleText(out.locator('#token-summary'));
        return text.includes('bank') && text.includes('attends to') ? text : undefined;
      }, 15_000, 200);
      assert.ok(summary.includes('river 70.5%'), `summary should give river 70.5%: ${JSON.stringify(summary)}`);
      const riverSpan = out.locator(`#token-q-${river}`);
      assert.strictEqual(Number(await riverSpan.getAttribute('data-weight')), bankToRiver, 'river\'s tint is the payload\'s weight');
      assert.match((await riverSpan.getAttribute('class')) ?? '', /\btinted\b/);
      assert.match((await bankSpan.getAttribute('class')) ?? '', /\bhovered\b/);
    });
    const query = { text: 'the', regex: false, caseSensitive: false };
    const hits = searchTokens(tokens, query).hits;
    assert.ok(hits.length >= 2, 'the sample has "The" and " the"');
    await step(J, `search "the": ${hits.length} tokens; Enter steps to the first`, async () => {
      const box = out.locator('#token-search');
      await box.fill('the');
      await waitFor(`${hits.length} hits`, async () => ((await out.locator('#token-hits').getAttribute('data-hits')) === String(hits.length) ? true : undefined), 5_000);
      for (const i of hits) assert.match((await out.locator(`#token-q-${i}`).getAttribute('class')) ?? '', /\bhit\b/);
      await box.press('Enter');
      await waitFor('1 of N', async () => ((await visibleText(out.locator('#token-hits'))) === `1 of ${hits.length}` ? true : undefined), 5_000);
      assert.match((await out.locator(`#token-q-${hits[0]}`).getAttribute('class')) ?? '', /\bcurrent-hit\b/);
      await box.fill('');
    });
    await step(J, 'Ctrl-click " river" and " bank": their summed row', async () => {
      for (const i of [river, bank]) {
        const p = await pointAt(page, out.locator(`#token-q-${i}`), `token ${i}`);
        await page.keyboard.down('Control');
        await page.mouse.click(p.x, p.y);
        await page.keyboard.up('Control');
      }
      await waitFor('#selection to show 2 tokens', async () => ((await visibleText(out.locator('#selection h2'))) === '2 tokens' ? true : undefined), 10_000);
      for (let j = 0; j < one.cols; j++) {
        const sum = Number(await out.locator(`#selection li[data-key="${j}"]`).getAttribute('data-sum'));
        const want = one.weights[river * one.cols + j] + one.weights[bank * one.cols + j];
        assert.ok(Math.abs(sum - want) < 1e-6, `summed row at ${tokens[j]}: ${sum}, payload ${want}`);
      }
      assert.strictEqual(await out.locator('#selection-row-label').textContent(), 'mean of 2');
    });
    await step(J, 'click " bank": its row is pinned', async () => {
      const p = await pointAt(page, bankSpan, '" bank"');
      await page.mouse.click(p.x, p.y);
      await waitFor('#detail with " river" 70.5%', async () => {
        const text = await visibleText(out.locator('#detail'));
        return text.includes('river') && text.includes('70.5%') ? true : undefined;
      }, 10_000);
    });
    await wb.screenshot('18-notebook-tokens');
  });
});
