// The host's exportPng request: canvas + axes + strip + legend composed into one PNG, sent back as bytes (the
// host writes the file).
import type { WebviewReply } from '../src/shared/protocol';
import { draw } from './draw';
import { body, dom } from './page';
import { composePicture } from './picture';
import { ui } from './state';

export function exportPng(id: number): Promise<WebviewReply> {
  draw(); // WebGL's buffer is only readable in the task that drew it
  const { axes, size } = ui;
  const dpr = window.devicePixelRatio || 1;
  const out = composePicture(dom, axes, size, dpr, getComputedStyle(body).backgroundColor || '#fff');
  if (!out) return Promise.resolve({ type: 'png', id, error: 'no 2D canvas' });
  return new Promise((resolve) => out.toBlob((blob) => {
    if (!blob) resolve({ type: 'png', id, error: 'the canvas could not be encoded' });
    else void blob.arrayBuffer().then((buf) => resolve({ type: 'png', id, bytes: new Uint8Array(buf) }));
  }, 'image/png'));
}
