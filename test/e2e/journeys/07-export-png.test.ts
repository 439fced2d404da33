// Journey 7: "Attention: Export PNG…" from the palette shows a save dialog; typing a path there writes a real PNG.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { workbench } from '../support/hooks';
import { bodyData, step, waitFor } from '../support/workbench';
import { readPngInfo } from '../support/files';

const J = 'journey 7 (export PNG)';

describe('journey 7: Export PNG… writes a valid PNG', () => {
  before(async () => workbench().reset());

  it('exports the colours heatmap to a path typed into the save dialog', async () => {
    const wb = workbench();
    const target = path.join(wb.workspace, 'j7-colours.png');
    await step(J, 'open colours.attention.json and its heatmap', async () => {
      await wb.openFile('colours.attention.json');
      await wb.runCommand('Attention: Open Attention Heatmap');
    });
    const frame = await step(J, 'the heatmap draws', () => wb.heatmap('colours', async (f) => (await bodyData(f, 'cols')) === '8'));
    await step(J, 'focus the heatmap (click the canvas)', () => frame.locator('#heatmap').click());
    await step(J, 'run "Attention: Export PNG…"', () => wb.runCommand('Attention: Export PNG…'));
    await step(J, 'type the target path into the save dialog and press Enter', () => wb.answerSaveDialog(target));
    const png = await step(J, 'a PNG file appears', () => waitFor(`${target} to be written`, async () => {
      if (!fs.existsSync(target) || fs.statSync(target).size < 33) return undefined;
      try { return readPngInfo(target); } catch { return undefined; } // still being written
    }, 20_000, 200).catch((err: Error) => {
      const written = fs.readdirSync(wb.workspace).filter((f) => f.endsWith('.png'));
      throw new Error(`${err.message}; PNG files in the workspace: ${JSON.stringify(written)}`);
    }));
    console.log(`      exported ${png.width}×${png.height} PNG, ${png.bytes} bytes`);
    assert.ok(png.width >= 8 && png.height >= 1, `PNG size ${png.width}×${png.height}`);
    await wb.screenshot('07-export-png');
  });
});
