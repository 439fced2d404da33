// The heatmap webview (built into dist/webview.js). It keeps UI state only — view kind, colours, zoom, pinned
// row — and asks the host for data: an overview per kind, full-resolution tiles when zoomed, and cell/row details
// for maps too large to hold whole. See src/shared/protocol.ts for the messages. This file only wires the
// features together; each lives in its own file:
//   state.ts (UI state, getState/setState), host.ts (posting and requests), page.ts (elements, renderer),
//   draw.ts (map, axes, legend, overlay), tiles.ts (zoom/pan settling, tiles), details.ts (tooltip, pinned row),
//   showModel.ts (a model or kind arriving, the grid), input.ts (pointer, keys, controls),
//   exportPng.ts (the PNG), messages.ts (the message switch), tokens.ts (the token view: texts in tokenPanes.ts,
//   search in tokenSearchBox.ts, several tokens in tokenSelection.ts, its marks on the map in tokenOverlay.ts).
import { watchLayout } from './draw';
import { post } from './host';
import { installInput } from './input';
import { listenToHost } from './messages';
import { persisted } from './state';
import { installTokens } from './tokens';

watchLayout();
installInput();
installTokens();
listenToHost();
post({ type: 'ready', kind: persisted.get().kind });
