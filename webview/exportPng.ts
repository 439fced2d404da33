// The host's exportPng request: canvas + axes + strip + legend composed into one PNG, sent back as bytes (the
// host writes the file).
import type { WebviewReply } from '../src/shared/protocol';
import { LEGEND_H, STRIP_W } from './axes';
import { draw } from './draw';
import { body, dom } from './page';
import { ui } from './state';

export function exportPng(id: number): Promise<WebviewReply> {
  draw(); // WebGL's buffer is only readable in the task that drew it
  const { axes, size } = ui;
  const dpr = window.devicePixelRatio || 1;
  const w = axes.rowW + size.w + STRIP_W;
  const h = axes.colH + size.h + LEGEND_H;
  const out = document.createElement('canvas');
  out.width = Math.round(w * dpr);
  out.height = Math.round(h * dpr);
  const ctx = out.getContext('2d');
  if (!ctx) return Promise.resolve({ type: 'png', id, error: 'no 2D canvas' });
  ctx.fillStyle = getComputedStyle(body).backgroundColor || '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  const put = (c: HTMLCanvasElement, x: number, y: number) => ctx.drawImage(c, Math.round(x * dpr), Math.round(y * dpr));
  put(dom.colAxis, axes.rowW, 0);
  put(dom.rowAxis, 0, axes.colH);
  put(dom.heatmap, axes.rowW, axes.colH);
  put(dom.strip, axes.rowW + size.w, axes.colH);
  put(dom.legend, axes.rowW, axes.colH + size.h);
  return new Promise((resolve) => out.toBlob((blob) => {
    if (!blob) resolve({ type: 'png', id, error: 'the canvas could not be encoded' });
    else void blob.arrayBuffer().then((buf) => resolve({ type: 'png', id, bytes: new Uint8Array(buf) }));
  }, 'image/png'));
}
