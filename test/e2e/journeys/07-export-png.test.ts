// Journey 7: "Attention: Export PNG…" from the palette shows a save dialog; typing a path there writes a real PNG.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { workbench } from '../support/hooks';
import { bodyData, step, waitFor } from '../support/workbench';
import { interpolateViridis } from 'd3-scale-chromatic';
import { buildLut, chooseScale, colorize } from '../../../src/shared/colormap';
import { readPngInfo } from '../support/files';
import { decodePng, pixel } from '../support/png';

const J = 'journey 7 (export PNG)';

/** Per channel, for the renderer's rounding (WebGL2 or 2D) and the PNG encoder; distinct cells differ far more. */
const TOLERANCE = 6;

/** The colours sample's eight weights, softmax(q·k/√3), computed here from the file (as NumPy would). */
function coloursWeights(): number[] {
  const spec = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../../samples/colours.attention.json'), 'utf8')) as { Q: number[]; K: number[][] };
  const s = spec.K.map((k) => k.reduce((acc, x, i) => acc + x * spec.Q[i], 0) / Math.sqrt(spec.Q.length));
  const m = Math.max(...s);
  const e = s.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** The viridis colour of each weight on the weights' own linear range (the webview's default scale). */
function viridisOf(w: number[]): [number, number, number][] {
  const scale = chooseScale('weights', Math.min(...w), Math.max(...w), 'linear');
  const out = new Uint8ClampedArray(w.length * 4);
  colorize(Float32Array.from(w), buildLut(interpolateViridis), scale, [128, 128, 128, 255], out);
  return w.map((_, j) => [out[j * 4], out[j * 4 + 1], out[j * 4 + 2]]);
}

const distance = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

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
    assert.strictEqual(await frame.locator('#colormap').inputValue(), 'viridis', 'the default colour map');
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
    await step(J, 'the PNG shows the eight cells, in order, in viridis', async () => {
      // Where the map sits in the PNG: the webview composes row axis | map | strip over column axis, map, legend
      // (webview/exportPng.ts), each canvas at its CSS size times the device pixel ratio.
      const css = async (id: string, p: 'width' | 'height') => {
        const style = (await frame.locator(`#${id}`).getAttribute('style')) ?? '';
        const m = new RegExp(`(?:^|;)\\s*${p}:\\s*([\\d.]+)px`).exec(style);
        if (!m) throw new Error(`#${id} has no ${p} in its style "${style}"`);
        return Number(m[1]);
      };
      const layout = {
        rowW: await css('row-axis', 'width'), colH: await css('col-axis', 'height'), w: await css('col-axis', 'width'),
        h: await css('row-axis', 'height'), strip: await css('strip', 'width'),
        dpr: Number(await frame.evaluate('window.devicePixelRatio || 1')),
      };
      const image = decodePng(target);
      assert.strictEqual(image.width, Math.round((layout.rowW + layout.w + layout.strip) * layout.dpr), `PNG width for ${JSON.stringify(layout)}`);
      const expected = viridisOf(coloursWeights());
      // Every two cells' colours differ by more than twice the tolerance, so no cell drawn in another's place (a
      // swapped or shifted order) can come within the tolerance of the colour expected there.
      for (let a = 0; a < 8; a++) for (let b = a + 1; b < 8; b++) {
        assert.ok(distance(expected[a], expected[b]) > 2 * TOLERANCE, `cells ${a} and ${b} are told apart: ${expected[a]} vs ${expected[b]}`);
      }
      const got = expected.map((_, j) => pixel(image, (layout.rowW + (j + 0.5) * layout.w / 8) * layout.dpr, (layout.colH + layout.h / 2) * layout.dpr));
      console.log(`      cells ${JSON.stringify(got)}`);
      for (let j = 0; j < 8; j++) {
        assert.ok(distance(got[j], expected[j]) <= TOLERANCE, `cell ${j}: rgb(${got[j].join(', ')}) in the PNG, viridis rgb(${expected[j].join(', ')}) expected (±${TOLERANCE})`);
      }
    });
    await wb.screenshot('07-export-png');
  });
});
