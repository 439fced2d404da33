// What a person does with a heatmap webview: hover a cell and read the tooltip, click it, zoom, read #detail/#error.
// Positions are found by looking (hover until the tooltip names the wanted cell), not by assuming the canvas layout.
import type { Frame, Page } from 'playwright-core';
import { bodyData, sleep, visibleText, waitFor } from './workbench';
import type { Workbench } from './workbench';

export interface Point { x: number; y: number }

/** The [query, key] a tooltip names ("query 12 · key 40 …"), or undefined when it names none. */
export const cellOf = (tooltip: string): [number, number] | undefined =>
  /query\s+(\d+)\D+key\s+(\d+)/.exec(tooltip)?.slice(1).map(Number) as [number, number] | undefined;

export async function canvasBox(frame: Frame): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await frame.locator('#heatmap').boundingBox();
  if (!box || box.width < 2 || box.height < 2) throw new Error('the #heatmap canvas has no size on screen');
  return box;
}

/** Moves the mouse to `p` and returns the tooltip text once it shows (or '' if it does not within `waitMs`). */
export async function tooltipAt(page: Page, frame: Frame, p: Point, waitMs = 400): Promise<string> {
  await page.mouse.move(p.x, p.y);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const text = await visibleText(frame.locator('#tooltip'));
    if (text || Date.now() > deadline) return text;
    await sleep(25);
  }
}

/**
 * Hovers the heatmap until the tooltip satisfies `wanted`. First tries the cell (row, col) as if the canvas were
 * exactly the matrix, then sweeps the canvas row by row. Returns the point and the tooltip text.
 */
export async function hoverUntil(page: Page, frame: Frame, what: string, wanted: (tooltip: string) => boolean,
  hint?: { row: number; col: number }): Promise<{ point: Point; tooltip: string }> {
  const box = await canvasBox(frame);
  const rows = Number(await bodyData(frame, 'rows')) || 1;
  const cols = Number(await bodyData(frame, 'cols')) || 1;
  const seen: string[] = [];
  const tryAt = async (p: Point, waitMs: number) => {
    const tooltip = await tooltipAt(page, frame, p, waitMs);
    if (tooltip && seen.length < 3 && !seen.includes(tooltip)) seen.push(tooltip);
    return tooltip && wanted(tooltip) ? { point: p, tooltip } : undefined;
  };
  if (hint) {
    const found = await tryAt({ x: box.x + ((hint.col + 0.5) * box.width) / cols, y: box.y + ((hint.row + 0.5) * box.height) / rows }, 600);
    if (found) return found;
  }
  const stepsX = Math.min(64, Math.max(16, cols * 2));
  const stepsY = Math.min(48, Math.max(8, rows * 2));
  // A quick sweep first; on a loaded machine the tooltip can lag, so a slower second sweep follows.
  for (const waitMs of [60, 300]) {
    for (let iy = 0; iy < stepsY; iy++) {
      for (let ix = 0; ix < stepsX; ix++) {
        const found = await tryAt({ x: box.x + ((ix + 0.5) * box.width) / stepsX, y: box.y + ((iy + 0.5) * box.height) / stepsY }, waitMs);
        if (found) return found;
      }
    }
  }
  throw new Error(`no cell of the heatmap showed a tooltip for ${what}; tooltips seen: ${JSON.stringify(seen)}`);
}

/** Moves the mouse off the canvas (so hover frames do not change what is drawn). */
export async function mouseAway(page: Page): Promise<void> {
  await page.mouse.move(2, 2);
}

/** Zooms in on the canvas centre the way a person would: wheel, then Ctrl+wheel, then the + key. Returns the new zoom. */
export async function zoomIn(page: Page, frame: Frame): Promise<string> {
  const before = await bodyData(frame, 'zoom');
  const box = await canvasBox(frame);
  const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const attempts: [string, () => Promise<void>][] = [
    ['wheel', async () => { await page.mouse.move(centre.x, centre.y); await page.mouse.wheel(0, -300); }],
    ['Ctrl+wheel', async () => {
      await page.mouse.move(centre.x, centre.y);
      await page.keyboard.down('Control'); await page.mouse.wheel(0, -300); await page.keyboard.up('Control');
    }],
    ['+ key', async () => { await frame.locator('#heatmap').focus(); await page.keyboard.press('+'); }],
  ];
  for (const [, act] of attempts) {
    await act();
    try {
      return await waitFor('the zoom to change', async () => {
        const now = await bodyData(frame, 'zoom');
        return now !== before && Number(now) > Number(before || '1') ? now : undefined;
      }, 1500);
    } catch {
      // try the next gesture
    }
  }
  throw new Error(`zooming (wheel, Ctrl+wheel, +) did not change body.dataset.zoom from ${before}`);
}

/** Waits for the heatmap's #error to show and returns its text. */
export async function waitForError(frame: Frame, timeoutMs = 15_000): Promise<string> {
  return waitFor('#error to show', async () => (await visibleText(frame.locator('#error'))) || undefined, timeoutMs);
}

/** Which part of the workbench a webview frame is drawn over (webviews are overlays, so DOM ancestry does not tell). */
export async function partOf(wb: Workbench, frame: Frame): Promise<'sidebar' | 'editor' | 'panel' | 'other'> {
  let outer: Frame = frame;
  while (outer.parentFrame() && outer.parentFrame() !== wb.page.mainFrame()) outer = outer.parentFrame() as Frame;
  const box = await (await outer.frameElement()).boundingBox();
  if (!box) return 'other';
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  for (const [part, selector] of [['sidebar', '.part.sidebar'], ['sidebar', '.part.auxiliarybar'], ['editor', '.part.editor'], ['panel', '.part.panel']] as const) {
    const el = wb.page.locator(selector).first();
    if ((await el.count()) === 0 || !(await el.isVisible())) continue;
    const b = await el.boundingBox();
    if (b && cx >= b.x && cx <= b.x + b.width && cy >= b.y && cy <= b.y + b.height) return part;
  }
  return 'other';
}
