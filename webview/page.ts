// The page's elements and the map renderer, made once when the script runs.
import { COLOR_MAP_NAMES } from '../src/shared/colormap';
import { buildDom } from './dom';
import { createRenderer } from './render';

export const dom = buildDom(COLOR_MAP_NAMES);
export const renderer = createRenderer(dom.heatmap, document.documentElement.dataset.preferRenderer === '2d');
export const body = document.body;
body.dataset.renderer = renderer.name;
body.dataset.state = 'loading';
dom.overlay.style.pointerEvents = 'none';
