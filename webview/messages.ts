// Messages from the host: the one exhaustive switch. Replies go to the request they answer (host.ts).
import { isColorMapName } from '../src/shared/colormap';
import { assertNever, type ToWebview } from '../src/shared/protocol';
import { exportPng } from './exportPng';
import { onHeadsMessage } from './headsPanel';
import { post, requests } from './host';
import { body, dom } from './page';
import { onModel, recolour } from './showModel';
import { persisted, ui } from './state';

function onMessage(msg: ToWebview, t0: number): void {
  switch (msg.type) {
    case 'model':
      onModel(msg, t0);
      break;
    case 'matrix':
    case 'tile':
    case 'cell':
    case 'row':
    case 'column':
    case 'selection':
      requests.handleReply(msg);
      break;
    case 'error':
      dom.error.textContent = msg.message;
      dom.error.hidden = false;
      body.dataset.error = 'true';
      body.dataset.state = ui.model ? 'ready' : 'error';
      break;
    case 'settings':
      if (isColorMapName(msg.settings.colorMap)) {
        ui.colorMap = msg.settings.colorMap;
        persisted.save({ colorMap: undefined });
        dom.colormap.value = ui.colorMap;
        recolour();
      }
      break;
    case 'exportPng':
      void exportPng(msg.id).then(post);
      break;
    case 'loading':
      body.dataset.state = 'loading';
      break;
    case 'headsProgress':
    case 'headTable':
    case 'nearHeads':
    case 'headsStopped':
      onHeadsMessage(msg);
      break;
    default:
      assertNever(msg);
  }
}

export function listenToHost(): void {
  window.addEventListener('message', (event: MessageEvent) => {
    const t0 = performance.now();
    const msg = event.data as ToWebview;
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
    onMessage(msg, t0);
  });
}
