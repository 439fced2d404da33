import * as assert from 'assert';
import { cellAt, clampView, ensureVisible, fitView, panBy, visibleRange, zoomAt, zoomOf } from '../../src/shared/hit';
import { labelStride, shorten, swatchColor, thinLabels } from '../../src/shared/labels';

describe('view: axis label thinning', () => {
  it('draws every label when cells are taller than the text', () => {
    assert.deepStrictEqual(thinLabels(0, 7, 85, 14), [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('thins 4096 labels on a 680 px axis to a 1-2-5 stride that never overlaps', () => {
    const cellPx = 680 / 4096;
    const stride = labelStride(cellPx, 14);
    assert.strictEqual(stride, 100);
    const shown = thinLabels(0, 4095, cellPx, 14);
    assert.strictEqual(shown.length, 41);
    for (let i = 1; i < shown.length; i++) assert.ok((shown[i] - shown[i - 1]) * cellPx >= 14);
  });

  it('keeps the same labels while panning (aligned to the stride)', () => {
    assert.deepStrictEqual(thinLabels(13, 31, 5, 14), [15, 20, 25, 30]);
    assert.deepStrictEqual(thinLabels(14, 32, 5, 14), [15, 20, 25, 30]);
  });

  it('shortens long labels and recognises colour labels', () => {
    assert.strictEqual(shorten('handlebars', 6), 'handl…');
    assert.strictEqual(shorten('bank', 6), 'bank');
    assert.strictEqual(swatchColor('#FEF0D9'), '#fef0d9');
    assert.strictEqual(swatchColor('#abc'), '#aabbcc');
    assert.strictEqual(swatchColor('<img src=x>'), undefined);
  });
});

describe('view: hit-testing and the view transform', () => {
  const vp = { width: 680, height: 85, rows: 1, cols: 8 };

  it('fits the colours example: 8 keys of 85 px', () => {
    const v = fitView(vp);
    assert.strictEqual(v.cellPx, 85);
    assert.deepStrictEqual(cellAt(v, vp, 10, 10), { row: 0, col: 0 });
    assert.deepStrictEqual(cellAt(v, vp, 679, 84), { row: 0, col: 7 });
    assert.strictEqual(cellAt(v, vp, 680, 10), undefined);
    assert.strictEqual(cellAt(v, vp, -1, 10), undefined);
  });

  it('zooms about the pointer: the cell under it stays under it', () => {
    const big = { width: 512, height: 512, rows: 4096, cols: 4096 };
    const v0 = fitView(big);
    const before = cellAt(v0, big, 300, 200);
    const v1 = zoomAt(v0, big, 16, 300, 200);
    assert.strictEqual(zoomOf(v1, big), 16);
    assert.deepStrictEqual(cellAt(v1, big, 300, 200), before);
    const r = visibleRange(v1, big);
    assert.deepStrictEqual([r.r1 - r.r0, r.c1 - r.c0], [256, 256]);
  });

  it('never zooms out past fit or pans the matrix off screen', () => {
    const big = { width: 512, height: 512, rows: 4096, cols: 4096 };
    const v = zoomAt(fitView(big), big, 0.1, 0, 0);
    assert.strictEqual(zoomOf(v, big), 1);
    const z = zoomAt(fitView(big), big, 4, 0, 0);
    const p = panBy(z, big, 10000, 10000);
    assert.deepStrictEqual([p.x0, p.y0], [0, 0]);
    const q = panBy(z, big, -1e7, -1e7);
    assert.deepStrictEqual([q.x0, q.y0], [3072, 3072]);
    assert.deepStrictEqual(clampView({ x0: -5, y0: 2, cellPx: 85 }, vp), { x0: 0, y0: 0, cellPx: 85 });
  });

  it('scrolls just enough to show the keyboard cursor', () => {
    const big = { width: 100, height: 100, rows: 100, cols: 100 };
    const v = { x0: 0, y0: 0, cellPx: 10 };
    assert.deepStrictEqual(ensureVisible(v, big, 15, 3), { x0: 0, y0: 6, cellPx: 10 });
    assert.deepStrictEqual(ensureVisible({ x0: 50, y0: 50, cellPx: 10 }, big, 40, 45), { x0: 45, y0: 40, cellPx: 10 });
  });
});
