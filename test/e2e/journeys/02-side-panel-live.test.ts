// Journey 2: the side panel follows the open JSON as it is typed, before it is saved; invalid JSON shows #error
// beside the last good picture; fixing it brings the heatmap back.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Frame } from 'playwright-core';
import { workbench } from '../support/hooks';
import { bodyData, step, visibleText, waitFor } from '../support/workbench';
import { hoverUntil, mouseAway, partOf, waitForError } from '../support/heatmap';

const J = 'journey 2 (side panel, live edits)';
const FILE = 'j2-colours.attention.json';

/** The first key's weight as the side panel's tooltip shows it. */
async function firstKeyTooltip(frame: Frame): Promise<string> {
  const wb = workbench();
  const found = await hoverUntil(wb.page, frame, 'the first key #fef0d9', (t) => t.includes('#fef0d9'), { row: 0, col: 0 });
  await mouseAway(wb.page);
  return found.tooltip;
}

describe('journey 2: side panel follows unsaved edits, shows errors, recovers', () => {
  before(async () => workbench().reset());
  after(async () => {
    const wb = workbench();
    // Leave nothing unsaved behind, and give the side bar back to the Explorer.
    await wb.runCommand('File: Revert File').catch(() => undefined);
    await wb.runCommand('View: Show Explorer').catch(() => undefined);
  });

  it('updates on typing, keeps the last picture with #error on invalid JSON, and recovers', async () => {
    const wb = workbench();
    const original = fs.readFileSync(path.join(wb.workspace, 'colours.attention.json'), 'utf8');
    fs.writeFileSync(path.join(wb.workspace, FILE), original);
    await step(J, `open ${FILE}`, () => wb.openFile(FILE));
    await step(J, 'run "Attention: Show in Side Panel"', () => wb.runCommand('Attention: Show in Side Panel'));

    const side = await step(J, 'the side panel draws the heatmap', () =>
      wb.heatmap('side panel', async (f) => (await partOf(wb, f)) === 'sidebar' && (await bodyData(f, 'cols')) === '8'));
    const before = await step(J, 'hover the first key in the side panel', () => firstKeyTooltip(side));
    assert.ok(before.includes('15.0% (0.150)'), `side panel tooltip before editing: ${JSON.stringify(before)}`);

    // The query becomes the warm colour #fc8d59 (rgb 252, 141, 89); NumPy: first key weight 0.1598, output 52.9% warm.
    const spec = JSON.parse(original) as { Q: number[] };
    spec.Q = [252 / 255, 141 / 255, 89 / 255];
    const edited = JSON.stringify(spec, null, 2);
    await step(J, 'type a new query colour into the JSON (unsaved)', () => wb.replaceEditorText(edited));
    const changed = await step(J, 'the side panel redraws with the new weights', () =>
      waitFor('the first key weight to become 16.0% (0.160)', async () => {
        const frame = await wb.heatmap('side panel after the edit', async (f) => (await partOf(wb, f)) === 'sidebar');
        const t = await firstKeyTooltip(frame);
        return t.includes('16.0% (0.160)') ? t : undefined;
      }, 20_000, 300));
    assert.ok(!changed.includes('15.0%'));
    const dirty = await wb.page.locator('.editor-group-container.active .tab.active.dirty').count();
    assert.strictEqual(dirty, 1, 'the edit must still be unsaved (the panel followed the editor, not the disk)');

    await step(J, 'type invalid JSON', () => wb.replaceEditorText('{\n  "Q": [0.5, 0.1,\n'));
    const frameWithError = await step(J, '#error shows', () => wb.webviewFrame('#error', 'side panel with an error',
      async (f) => (await partOf(wb, f)) === 'sidebar' && (await visibleText(f.locator('#error'))) !== ''));
    const message = await waitForError(frameWithError);
    assert.ok(message.length > 0);
    const kept = await step(J, 'the last good heatmap stays (tooltip still 16.0%)', () => firstKeyTooltip(frameWithError));
    assert.ok(kept.includes('16.0% (0.160)'), `after invalid JSON the last good picture should stay: ${JSON.stringify(kept)}`);
    await wb.screenshot('02-side-panel-error');

    await step(J, 'fix the JSON (the original text)', () => wb.replaceEditorText(original));
    await step(J, '#error hides and the heatmap is back to 15.0%', () =>
      waitFor('the side panel to recover', async () => {
        const frame = await wb.heatmap('side panel after the fix', async (f) => (await partOf(wb, f)) === 'sidebar');
        if ((await visibleText(frame.locator('#error'))) !== '') return undefined;
        return (await firstKeyTooltip(frame)).includes('15.0% (0.150)') ? true : undefined;
      }, 20_000, 300));
    await wb.screenshot('02-side-panel-live');
  });
});
