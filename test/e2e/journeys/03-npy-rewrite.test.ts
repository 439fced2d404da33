// Journey 3: a training script rewrites an open .npy on disk; the heatmap refreshes in place with the same zoom.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { workbench } from '../support/hooks';
import { bodyData, step, waitFor } from '../support/workbench';
import { mouseAway, tooltipAt, zoomIn } from '../support/heatmap';
import { numbersIn, writeFloat32Npy } from '../support/files';

const J = 'journey 3 (.npy rewritten on disk)';
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
    const box = (await frame.locator('#heatmap').boundingBox())!;
    const point = { x: box.x + box.width * 0.5, y: box.y + box.height * 0.5 };
    const before = await step(J, 'hover the centre and read the value', () =>
      waitFor('a tooltip at the centre', async () => (await tooltipAt(page, frame, point, 600)) || undefined, 10_000));
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
});
