// Journey 3: a training script rewrites an open .npy on disk; the heatmap refreshes in place with the same zoom.
// And a JSON manifest's heatmap refreshes when a .npy the manifest names is rewritten (or appears).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { workbench } from '../support/hooks';
import { bodyData, step, waitFor } from '../support/workbench';
import { mouseAway, tooltipAt, zoomIn } from '../support/heatmap';
import { numbersIn, writeFloat32Npy } from '../support/files';
import type { Frame, Page } from 'playwright-core';

const J = 'journey 3 (.npy rewritten on disk)';

/** Hover the middle of the heatmap until a tooltip shows; the point (to come back to) and the tooltip's text. */
async function hoverCentre(page: Page, frame: Frame): Promise<{ point: { x: number; y: number }; text: string }> {
  const box = (await frame.locator('#heatmap').boundingBox())!;
  const point = { x: box.x + box.width * 0.5, y: box.y + box.height * 0.5 };
  const text = await waitFor('a tooltip at the centre', async () => (await tooltipAt(page, frame, point, 600)) || undefined, 10_000);
  return { point, text };
}
const FILE = 'j3-live.npy';

describe('journey 3: an open .npy rewritten on disk refreshes with the same zoom', () => {
  before(async () => workbench().reset());

  it('shows the new values and keeps body.dataset.zoom', async () => {
    const wb = workbench();
    const page = wb.page;
    const file = path.join(wb.workspace, FILE);
    // fixtures/live.npy (NumPy): cell (i, j) = (8 i + j) / 100.
    fs.copyFileSync(path.join(wb.workspace, 'fixtures', 'live.npy'), file);
    await step(J, `open ${FILE} (the custom editor)`, () => wb.openFile(FILE));
    const frame = await step(J, 'the 8×8 heatmap draws', () =>
      wb.heatmap('j3-live.npy', async (f) => (await bodyData(f, 'rows')) === '8' && (await bodyData(f, 'cols')) === '8'));

    const zoom = await step(J, 'zoom in', () => zoomIn(page, frame));
    const { point, text: before } = await step(J, 'hover the centre and read the value', () => hoverCentre(page, frame));
    const oldValues = numbersIn(before).filter((v) => v > 0 && v < 0.64 && !Number.isInteger(v));
    assert.ok(oldValues.length > 0, `tooltip should show a value (8i+j)/100: ${JSON.stringify(before)}`);

    await step(J, 'a script rewrites the file: every cell becomes 1 − (8 i + j) / 100', async () =>
      writeFloat32Npy(file, 8, 8, (i, j) => 1 - (8 * i + j) / 100));

    // The pointer stays where it is: the open tooltip itself must update, not keep the old value.
    const refreshed = (text: string) => oldValues.some((o) => numbersIn(text).some((v) => Math.abs(v + o - 1) < 0.002));
    await step(J, 'the open tooltip updates in place, without moving the pointer', () =>
      waitFor('the tooltip under the still pointer to show 1 − the old value', async () => {
        const text = (await frame.locator('#tooltip').textContent()) ?? '';
        return refreshed(text) ? text : undefined;
      }, 20_000, 200));

    let last = '';
    const after = await step(J, 'the panel refreshes and the same cell shows the new value', () =>
      waitFor('the tooltip at the same point to show 1 − the old value', async () => {
        await mouseAway(page); // leave the canvas and come back: a fresh hover after the redraw
        const text = await tooltipAt(page, frame, point, 300);
        const values = numbersIn(text);
        last = text;
        return oldValues.some((o) => values.some((v) => Math.abs(v + o - 1) < 0.002)) ? text : undefined;
      }, 20_000, 300).catch((err: Error) => {
        throw new Error(`${err.message}; tooltip before the rewrite ${JSON.stringify(before)}, now ${JSON.stringify(last)}`);
      }));
    assert.notStrictEqual(after, before);
    assert.strictEqual(await bodyData(frame, 'zoom'), zoom, 'the zoom must survive the refresh');
    // The watcher may deliver a trailing reload for the same write (coalesced bursts end with one last reload):
    // the panel must settle back to ready, with the same zoom.
    await step(J, 'the panel settles to ready after the refresh', () =>
      waitFor('body.dataset.state to be ready', async () => ((await bodyData(frame, 'state')) === 'ready' ? true : undefined), 15_000, 100));
    assert.strictEqual(await bodyData(frame, 'zoom'), zoom, 'the zoom must survive the trailing reload too');
    await wb.screenshot('03-npy-rewrite');
  });

  it('a manifest naming a .npy refreshes when that .npy is rewritten, and when a missing one appears', async () => {
    const wb = workbench();
    const page = wb.page;
    await wb.reset();
    const dep = path.join(wb.workspace, 'j3-dep.npy');
    const later = path.join(wb.workspace, 'j3-later.npy');
    fs.rmSync(later, { force: true });
    writeFloat32Npy(dep, 6, 5, (i, j) => (5 * i + j) / 100);
    fs.writeFileSync(path.join(wb.workspace, 'j3-manifest.attention.json'), JSON.stringify({ weights: 'j3-dep.npy' }));
    await step(J, 'open j3-manifest.attention.json with Quick Open', () => wb.openFile('j3-manifest.attention.json'));
    const lens = page.locator('.editor-group-container.active .codelens-decoration a').filter({ hasText: /show heatmap/i }).first();
    await step(J, 'click its CodeLens "Show heatmap"', async () => {
      await lens.waitFor({ state: 'visible', timeout: 20_000 });
      await lens.click();
    });
    const frame = await step(J, 'the 6×5 weights from j3-dep.npy draw', () =>
      wb.heatmap('the manifest heatmap', async (f) => (await bodyData(f, 'rows')) === '6' && (await bodyData(f, 'cols')) === '5'));
    const { point, text: before } = await step(J, 'hover the centre and read the weight', () => hoverCentre(page, frame));
    const old = numbersIn(before).filter((v) => v > 0 && v < 0.3 && !Number.isInteger(v));
    assert.ok(old.length > 0, `tooltip should show a value (5i+j)/100: ${JSON.stringify(before)}`);

    await step(J, 'a script rewrites j3-dep.npy (the manifest itself is untouched): cell = 0.5 + (5 i + j) / 100', async () =>
      writeFloat32Npy(dep, 6, 5, (i, j) => 0.5 + (5 * i + j) / 100));
    await step(J, 'the manifest heatmap shows the new value at the same cell', () =>
      waitFor('the tooltip at the centre to show old + 0.5', async () => {
        await mouseAway(page);
        const text = await tooltipAt(page, frame, point, 300);
        return old.some((o) => numbersIn(text).some((v) => Math.abs(v - o - 0.5) < 0.002)) ? text : undefined;
      }, 20_000, 300));

    fs.writeFileSync(path.join(wb.workspace, 'j3-waiting.attention.json'), JSON.stringify({ weights: 'j3-later.npy' }));
    await step(J, 'open j3-waiting.attention.json, which names j3-later.npy (not written yet)', () => wb.openFile('j3-waiting.attention.json'));
    await step(J, 'click its CodeLens "Show heatmap"', async () => {
      await lens.waitFor({ state: 'visible', timeout: 20_000 });
      await lens.click();
    });
    const waiting = await step(J, 'the panel opens with an error naming j3-later.npy', () =>
      wb.webviewFrame('#heatmap', 'the waiting manifest', async (f) =>
        (await bodyData(f, 'state')) === 'error' && /j3-later\.npy/.test((await f.locator('#error').textContent()) ?? '')));
    await step(J, 'a script writes j3-later.npy (8×3): the panel loads it by itself', async () => {
      writeFloat32Npy(later, 8, 3, (i, j) => (3 * i + j) / 100);
      await waitFor('the panel to draw 8×3', async () =>
        ((await bodyData(waiting, 'state')) === 'ready' && (await bodyData(waiting, 'rows')) === '8' && (await bodyData(waiting, 'cols')) === '3' ? true : undefined), 20_000, 200);
    });
    await wb.screenshot('03-manifest-dependency');
  });
});
