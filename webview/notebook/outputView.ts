// One notebook output's heatmap, drawn into the output's shadow root with the panel's own pieces: the page
// skeleton (dom.ts), the map renderer (render.ts), axes, strip and legend (axes.ts), tooltip, pinned row and grid
// (panels.ts), stage fit, marks and the exported picture (picture.ts), and the shared hit-testing, details and
// colour scales. The panel's page modules (state.ts, draw.ts, input.ts, …) hold one page's state as module
// singletons and talk to the extension host, so this class keeps the same state per output instead. There is no extension host behind a notebook
// output, so everything the panel asks the host for (a head, a kind, a cell's details) is computed here from the
// decoded payload. Each output is its own instance: a notebook shows many at once. The token view is the panel's
// TokenView (webview/tokenView.ts), one per output, reading rows and columns straight from the payload.
import { chooseScale, COLOR_MAP_NAMES, type ScaleMode } from '../../src/shared/colormap';
import { toCsv } from '../../src/shared/csv';
import { cellAt, clampView, ensureVisible, fitView, panBy, visibleRange, zoomAt, zoomOf, type View, type Viewport } from '../../src/shared/hit';
import { cellDetails, rowDetails, rowStats } from '../../src/shared/inspect';
import { notebookView } from '../../src/shared/notebookModel';
import type { NotebookPayload } from '../../src/shared/notebookPayload';
import { finiteRange, hasNegative } from '../../src/shared/pool';
import { clampCell } from '../../src/shared/selection';
import { revealLines } from '../../src/shared/tokenLayout';
import { selectionDetails, tokenKind, tokenLine } from '../../src/shared/tokenRows';
import { columnLabels, isAggregateKind, type HeatmapModel, type Matrix2D, type ViewKind } from '../../src/shared/types';
import { axisSizes, drawColAxis, drawLegend, drawRowAxis, drawStrip, LEGEND_H, readTheme, STRIP_W } from '../axes';
import { lutFor, mapName } from '../colormaps';
import { buildDom, el, KIND_NAMES, setOptions, type Dom } from '../dom';
import { buildGrid, detailContent, positionTooltip, tooltipContent } from '../panels';
import { composePicture, drawMarks, markColors, stageSize } from '../picture';
import { createRenderer, type Colors, type Renderer } from '../render';
import type { TokenHost, TokenUiSaved } from '../tokenState';
import { TokenView } from '../tokenView';

const MASK: [number, number, number, number] = [128, 128, 128, 255];

/** UI choices kept per output while the notebook is open (the payload itself is never stored). */
export interface OutputUiState {
  colorMap: string;
  scaleMode: ScaleMode;
  kind?: ViewKind;
  selection?: { layer: number; head: number };
  tokens?: TokenUiSaved;
}

interface Shown extends Matrix2D {
  min: number;
  max: number;
  rowMax: Float32Array;
  rowEntropy?: Float32Array;
}

export class OutputView {
  private readonly dom: Dom;
  private readonly renderer: Renderer;
  private readonly frame: HTMLElement;
  private readonly pngLink: HTMLAnchorElement;
  private readonly csvLink: HTMLAnchorElement;
  private csvUrl: string | undefined;
  private model: HeatmapModel;
  private kind: ViewKind;
  private mat: Shown | undefined;
  private colors: Colors | undefined;
  private view: View = { x0: 0, y0: 0, cellPx: 1 };
  private size = { w: 1, h: 1 };
  private axes = { rowW: 110, colH: 90 };
  private hover: { row: number; col: number } | undefined;
  private cursor = { row: 0, col: 0 };
  private pinned: number | undefined;
  private drag: { x: number; y: number; moved: boolean; id: number } | undefined;
  private frameRequested = false;
  private pngUrl: string | undefined;
  private disposed = false;
  private readonly cleanups: (() => void)[] = [];
  private readonly tokens: TokenView;
  /** Counts models (a head picked): the token view's cached rows belong to one. */
  private generation = 0;

  constructor(
    private readonly root: ShadowRoot, private readonly payload: NotebookPayload, private readonly state: OutputUiState,
    poolingNote?: string,
  ) {
    this.frame = el('div', { class: 'attention-output', 'data-state': 'loading' });
    root.append(this.frame);
    this.dom = buildDom(COLOR_MAP_NAMES, this.frame);
    // The panel's copy goes through the extension host, which a notebook output does not have; PNG and CSV are
    // offered as download links instead (VS Code asks where to save them).
    this.dom.copy.hidden = true;
    this.pngLink = el('a', { id: 'png-link', hidden: '' }, 'Save PNG');
    this.dom.exportPng.after(this.pngLink);
    this.csvLink = el('a', { id: 'csv-link', hidden: '' }, 'Save CSV');
    this.dom.exportCsv.after(this.csvLink);
    this.renderer = createRenderer(this.dom.heatmap, false);
    this.frame.dataset.renderer = this.renderer.name;
    this.renderer.onRestored = () => this.requestDraw();
    this.dom.overlay.style.pointerEvents = 'none';
    this.tokens = new TokenView(this.tokenHost());
    this.tokens.mount(this.dom);
    const built = notebookView(payload, state.selection);
    this.model = built.model;
    this.kind = state.kind && this.model.kinds[state.kind] ? state.kind : this.model.defaultKind;
    this.dom.poolingNote.textContent = poolingNote ?? built.poolingNote ?? '';
    this.dom.poolingNote.hidden = !this.dom.poolingNote.textContent;
    this.dom.colormap.value = state.colorMap;
    this.dom.scale.value = state.scaleMode;
    this.installInput();
    this.showModel();
  }

  dispose(): void {
    this.disposed = true;
    for (const c of this.cleanups.splice(0)) c();
    this.tokens.dispose();
    if (this.pngUrl) URL.revokeObjectURL(this.pngUrl);
    if (this.csvUrl) URL.revokeObjectURL(this.csvUrl);
    this.frame.remove();
  }

  // ---------------------------------------------------------------------------------------------- model

  private showModel(): void {
    const m = this.model;
    this.dom.title.textContent = m.title;
    this.dom.subtitle.textContent = [m.subtitle, m.info.shape ? `[${m.info.shape.join(', ')}] ${m.info.dtype ?? ''}` : undefined]
      .filter(Boolean).join(' · ');
    const kinds = Object.keys(m.kinds) as ViewKind[];
    if (!m.kinds[this.kind]) this.kind = m.defaultKind;
    setOptions(this.dom.kind, kinds, KIND_NAMES, this.kind);
    this.dom.warnings.replaceChildren(...m.warnings.map((w) => el('li', {}, w)));
    this.dom.warnings.hidden = m.warnings.length === 0;
    this.applyKind(false);
    this.renderGrid();
  }

  private applyKind(keepView: boolean): void {
    const src = this.model.kinds[this.kind];
    if (!src) return;
    const same = this.mat && this.mat.rows === src.rows && this.mat.cols === src.cols;
    const r = finiteRange(src.data);
    const stats = rowStats(src, this.kind === 'weights' || this.kind === 'headMean' || this.kind === 'rollout');
    this.mat = { ...src, min: r.min, max: r.max, rowMax: stats.max, rowEntropy: stats.entropy };
    this.layout();
    this.renderer.setTile(undefined);
    this.renderer.setOverview({ data: src.data, texRows: src.rows, texCols: src.cols, r0: 0, c0: 0, blockRows: 1, blockCols: 1 });
    this.updateColors();
    this.view = keepView && same ? clampView(this.view, this.vp()) : fitView(this.vp());
    this.cursor = clampCell(this.cursor, src.rows, src.cols);
    if (this.pinned !== undefined && this.pinned >= src.rows) this.pinned = undefined;
    const d = this.frame.dataset;
    d.rows = String(src.rows);
    d.cols = String(src.cols);
    d.kind = this.kind;
    this.dom.kind.value = this.kind;
    this.state.kind = this.kind;
    this.hideTooltip();
    this.draw();
    this.showPinned();
    this.tokens.refresh(this.model.queryLabels, this.model.keyLabels, src.rows);
    d.state = 'ready';
  }

  private select(layer: number, head: number): void {
    this.state.selection = { layer, head };
    const keep = this.kind;
    this.model = notebookView(this.payload, { layer, head }).model;
    this.generation++;
    // Picking a head means "show me this head": an aggregate (head mean) gives way to the head's own map.
    this.kind = isAggregateKind(keep) || !this.model.kinds[keep] ? this.model.defaultKind : keep;
    this.showModel();
  }

  private switchKind(kind: ViewKind): void {
    if (!this.model.kinds[kind]) return;
    this.kind = kind;
    this.applyKind(true);
    if (this.model.grid?.extras?.some((e) => e.kind)) this.renderGrid(); // which extra cell is pressed
  }

  private renderGrid(): void {
    const g = this.model.grid;
    if (!g) {
      this.dom.grid.hidden = true;
      this.dom.grid.replaceChildren();
      return;
    }
    const r = finiteRange(g.cells);
    const scale = chooseScale(hasNegative(g.cells) ? 'data' : 'weights', r.min, r.max, this.state.scaleMode);
    buildGrid(this.dom.grid, g, this.model.selection, lutFor(this.state.colorMap, scale.diverging), scale,
      (layer, head) => this.select(layer, head),
      { kinds: Object.keys(this.model.kinds) as ViewKind[], shown: this.kind, onKind: (k) => this.switchKind(k) });
    this.dom.grid.hidden = false;
  }

  // ---------------------------------------------------------------------------------------------- drawing

  private vp(): Viewport {
    return { width: this.size.w, height: this.size.h, rows: this.mat?.rows ?? 1, cols: this.mat?.cols ?? 1 };
  }

  private colLabels(): string[] | undefined {
    return columnLabels(this.model, this.kind);
  }

  private updateColors(): void {
    if (!this.mat) return;
    const scale = chooseScale(this.kind, this.mat.min, this.mat.max, this.state.scaleMode);
    this.colors = { lut: lutFor(this.state.colorMap, scale.diverging), scale, mask: MASK };
    this.renderer.setColors(this.colors);
    this.dom.colormap.disabled = scale.diverging;
    this.dom.colormap.title = scale.diverging ? 'Signed values use the diverging RdBu map, centred on 0' : 'Colour map for weights';
  }

  /**
   * An output has no page height to fill: the plot is as tall as the map needs (about 36 px a row) within
   * 160–480 px, and the stage fits the map inside it as the panel's does.
   */
  private layout(): void {
    if (!this.mat) return;
    const { rows, cols } = this.mat;
    this.axes = axisSizes(this.model.queryLabels, this.colLabels(), rows, cols, readTheme());
    const plot = this.dom.plot;
    plot.style.gridTemplateColumns = `${this.axes.rowW}px auto ${STRIP_W}px`;
    const under = this.tokens.rowUnderMap();
    plot.style.gridTemplateRows = `${this.axes.colH}px auto ${under}px ${LEGEND_H}px`;
    const height = Math.min(480, Math.max(160, this.axes.colH + LEGEND_H + rows * 36)) + under;
    this.dom.main.style.height = `${height}px`;
    this.size = stageSize(plot.getBoundingClientRect().width, height, this.axes, rows, cols, under);
    const stage = this.dom.heatmap.parentElement as HTMLElement;
    stage.style.width = `${this.size.w}px`;
    stage.style.height = `${this.size.h}px`;
  }

  private requestDraw(): void {
    if (this.frameRequested || this.disposed) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      if (!this.disposed) this.draw();
    });
  }

  private draw(): void {
    const { mat, colors, view, size, axes, dom } = this;
    if (!mat || !colors) return;
    const dpr = window.devicePixelRatio || 1;
    this.renderer.draw(view, mat.rows, mat.cols, size.w, size.h, dpr);
    const theme = readTheme();
    const hl = this.hover ?? (this.root.activeElement === dom.heatmap ? this.cursor : undefined);
    drawRowAxis(dom.rowAxis, this.model.queryLabels, mat.rows, view, axes.rowW, size.h, dpr, theme, hl?.row);
    drawColAxis(dom.colAxis, this.colLabels(), mat.cols, view, size.w, axes.colH, dpr, theme, hl?.col);
    drawStrip(dom.strip, mat.rowMax, mat.rowEntropy, mat.cols, view, size.h, dpr, colors.lut, colors.scale);
    this.tokens.drawSelectionRow(colors, view, size.w, mat.cols, dpr);
    drawLegend(dom.legend, size.w, dpr, colors.lut, colors.scale,
      `${KIND_NAMES[this.kind] ?? this.kind} · ${mapName(this.state.colorMap, colors.scale.diverging)}${this.state.scaleMode === 'log' ? ' · log' : ''}`, theme);
    this.drawOverlay();
    this.frame.dataset.zoom = String(+zoomOf(view, this.vp()).toFixed(3));
  }

  private drawOverlay(): void {
    const { mat, view, size, hover, cursor, pinned } = this;
    if (!mat) return;
    const focused = this.root.activeElement === this.dom.heatmap;
    drawMarks(this.dom.overlay, mat.rows, mat.cols, view, size, window.devicePixelRatio || 1,
      { pinned, hover, cursor: focused ? cursor : undefined }, markColors(this.frame),
      (ctx, w, h) => this.tokens.drawMarks(ctx, view, w, h, mat.rows, mat.cols));
  }

  private setView(v: View): void {
    this.view = clampView(v, this.vp());
    this.requestDraw();
  }

  // ---------------------------------------------------------------------------------------------- details

  private showCell(row: number, col: number, clientX: number, clientY: number, announce: boolean): void {
    const d = cellDetails(this.model, this.kind, row, col);
    if (!d) return;
    this.dom.tooltip.replaceChildren(...tooltipContent(d, this.model.valueLabels));
    this.placeTooltip(clientX, clientY);
    if (announce) {
      const what = d.weight !== undefined ? `weight ${(d.weight * 100).toFixed(1)}%` : `${KIND_NAMES[d.kind] ?? d.kind} ${d.value}`;
      this.dom.live.textContent = `query ${d.row} ${d.rowLabel}, key ${d.col} ${d.colLabel}, ${what}`;
    }
  }

  private placeTooltip(clientX: number, clientY: number): void {
    positionTooltip(this.dom.tooltip, clientX, clientY);
  }

  private hideTooltip(): void {
    this.dom.tooltip.hidden = true;
  }

  private showPinned(): void {
    const row = this.pinned;
    const r = row === undefined ? undefined : rowDetails(this.model, this.kind, row);
    if (!r) {
      this.dom.detail.replaceChildren();
      this.dom.detail.classList.remove('pinned');
      return;
    }
    this.dom.detail.replaceChildren(...detailContent(r, this.model.keyLabels, this.model.valueLabels, () => this.pin(undefined)));
    this.dom.detail.classList.add('pinned');
  }

  private pin(row: number | undefined): void {
    this.pinned = row;
    this.showPinned();
    this.relayout();
    this.tokens.followPin();
  }

  /** Fit the stage to the plot again (the pinned-row panel or the output's width changed); a map at fit stays at fit. */
  private relayout(): void {
    if (!this.mat || this.disposed) return;
    const atFit = zoomOf(this.view, this.vp()) <= 1.0001;
    this.layout();
    this.view = atFit ? fitView(this.vp()) : clampView(this.view, this.vp());
    this.draw();
  }

  // ---------------------------------------------------------------------------------------------- tokens

  /** The token view's access to this output: rows, columns and selections computed from the payload. */
  private tokenHost(): TokenHost {
    return {
      root: this.root,
      stats: this.frame,
      live: this.dom.live,
      themed: this.frame,
      map: () => ({
        kind: this.kind, rows: this.mat?.rows ?? 0, cols: this.mat?.cols ?? 0, pinned: this.pinned, hover: this.hover,
        generation: `${this.generation}|${this.kind}`,
      }),
      tokenKind: () => tokenKind(this.model, this.kind) ?? 'weights',
      valueLabels: () => this.model.valueLabels,
      line: (dir, i) => Promise.resolve(tokenLine(this.model, this.kind, dir, i)),
      selection: (rows) => Promise.resolve(selectionDetails(this.model, this.kind, rows)),
      pin: (row) => {
        this.cursor = { row, col: this.cursor.col };
        this.pin(row);
      },
      showOnMap: (row, col) => {
        if (!this.mat) return;
        this.setView(revealLines(this.view, this.vp(), row, col));
        if (row !== undefined && row < this.mat.rows) this.cursor = { row, col: col ?? this.cursor.col };
      },
      drawOverlay: () => this.drawOverlay(),
      relayout: () => this.relayout(),
      saved: () => this.state.tokens,
      save: (s) => {
        this.state.tokens = s;
      },
    };
  }

  // ---------------------------------------------------------------------------------------------- export

  /** Axes, map, strip and legend composed into one PNG, offered as a download link (no host to write a file). */
  private exportPng(): void {
    this.draw(); // WebGL's buffer is only readable in the task that drew it
    const background = getComputedStyle(this.frame).backgroundColor || '#fff';
    const out = composePicture(this.dom, this.axes, this.size, window.devicePixelRatio || 1, background);
    if (!out) return;
    out.toBlob((blob) => {
      if (!blob || this.disposed) return;
      if (this.pngUrl) URL.revokeObjectURL(this.pngUrl);
      this.pngUrl = URL.createObjectURL(blob);
      const name = `${this.model.title.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'attention'}.png`;
      this.pngLink.href = this.pngUrl;
      this.pngLink.download = name;
      this.pngLink.title = `${name}, ${blob.size} bytes`;
      this.pngLink.hidden = false;
      this.pngLink.click();
    }, 'image/png');
  }

  /** The current kind as CSV (the zoomed region when zoomed in, as the panel's export), offered as a download link. */
  private exportCsv(): void {
    const m = this.model.kinds[this.kind];
    if (!m) return;
    const r = visibleRange(this.view, this.vp());
    const whole = r.r0 === 0 && r.c0 === 0 && r.r1 >= m.rows && r.c1 >= m.cols;
    const region = whole ? undefined : { r0: r.r0, c0: r.c0, rows: r.r1 - r.r0, cols: r.c1 - r.c0 };
    const text = toCsv(m, this.model.queryLabels, columnLabels(this.model, this.kind), region);
    const blob = new Blob([text], { type: 'text/csv' });
    if (this.csvUrl) URL.revokeObjectURL(this.csvUrl);
    this.csvUrl = URL.createObjectURL(blob);
    const name = `${this.model.title.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'attention'}-${this.kind}.csv`;
    this.csvLink.href = this.csvUrl;
    this.csvLink.download = name;
    this.csvLink.title = `${name}, ${region ? `${region.rows}×${region.cols} shown` : `${m.rows}×${m.cols}`}, ${blob.size} bytes`;
    this.csvLink.hidden = false;
    this.csvLink.click();
  }

  // ---------------------------------------------------------------------------------------------- input

  private listen<K extends keyof HTMLElementEventMap>(
    target: HTMLElement, type: K, fn: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions,
  ): void {
    target.addEventListener(type, fn as EventListener, opts);
    this.cleanups.push(() => target.removeEventListener(type, fn as EventListener, opts));
  }

  private localPoint(e: { clientX: number; clientY: number }): { x: number; y: number } {
    const r = this.dom.heatmap.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  private moveCursor(dr: number, dc: number): void {
    if (!this.mat) return;
    this.cursor = clampCell({ row: this.cursor.row + dr, col: this.cursor.col + dc }, this.mat.rows, this.mat.cols);
    this.setView(ensureVisible(this.view, this.vp(), this.cursor.row, this.cursor.col));
    const r = this.dom.heatmap.getBoundingClientRect();
    const { view } = this;
    this.hover = undefined;
    this.draw();
    this.tokens.followMap();
    this.showCell(this.cursor.row, this.cursor.col,
      r.left + (this.cursor.col + 1 - view.x0) * view.cellPx, r.top + (this.cursor.row + 0.5 - view.y0) * view.cellPx, true);
  }

  private installInput(): void {
    const { dom } = this;
    const map = dom.heatmap;
    this.listen(map, 'pointerdown', (e) => {
      if (e.button !== 0) return;
      this.drag = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId };
      map.setPointerCapture(e.pointerId);
    });
    this.listen(map, 'pointermove', (e) => {
      const drag = this.drag;
      if (drag && drag.id === e.pointerId) {
        const dx = e.clientX - drag.x;
        const dy = e.clientY - drag.y;
        if (drag.moved || Math.abs(dx) + Math.abs(dy) > 3) {
          drag.moved = true;
          drag.x = e.clientX;
          drag.y = e.clientY;
          this.setView(panBy(this.view, this.vp(), dx, dy));
          this.hideTooltip();
          return;
        }
      }
      const p = this.localPoint(e);
      const c = cellAt(this.view, this.vp(), p.x, p.y);
      if (!c) {
        if (this.hover) {
          this.hover = undefined;
          this.hideTooltip();
          this.requestDraw();
          this.tokens.followMap();
        }
        return;
      }
      if (this.hover && this.hover.row === c.row && this.hover.col === c.col) {
        this.placeTooltip(e.clientX, e.clientY);
        return;
      }
      this.hover = c;
      this.drawOverlay();
      this.tokens.followMap();
      this.showCell(c.row, c.col, e.clientX, e.clientY, false);
    });
    this.listen(map, 'pointerup', (e) => {
      const wasDrag = this.drag?.moved;
      this.drag = undefined;
      if (map.hasPointerCapture(e.pointerId)) map.releasePointerCapture(e.pointerId);
      if (wasDrag) return;
      const p = this.localPoint(e);
      const c = cellAt(this.view, this.vp(), p.x, p.y);
      if (!c) return;
      this.cursor = c;
      // Clicking pins (never toggles: a second click must not hide what the first showed); Unpin or Escape clears.
      this.pin(c.row);
    });
    this.listen(map, 'pointerleave', () => {
      this.hover = undefined;
      this.hideTooltip();
      this.requestDraw();
      this.tokens.followMap();
    });
    // Plain wheel scrolls the notebook; Ctrl/⌘ + wheel zooms the map (a notebook output must not trap scrolling).
    this.listen(map, 'wheel', (e) => {
      if (!(e.ctrlKey || e.metaKey)) return;
      e.preventDefault();
      const p = this.localPoint(e);
      const unitPx = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.size.h : 1;
      this.setView(zoomAt(this.view, this.vp(), Math.exp(-e.deltaY * unitPx * 0.0015), p.x, p.y));
    }, { passive: false });
    this.listen(map, 'keydown', (e) => {
      const arrows: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      const a = arrows[e.key];
      const centre = { x: this.size.w / 2, y: this.size.h / 2 };
      if (a) {
        e.preventDefault();
        if (e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) this.setView(panBy(this.view, this.vp(), -a[1] * this.size.w * 0.2, -a[0] * this.size.h * 0.2));
        else this.moveCursor(a[0], a[1]);
      } else if (e.key === '+' || e.key === '=') {
        e.preventDefault();
        this.setView(zoomAt(this.view, this.vp(), 1.5, centre.x, centre.y));
      } else if (e.key === '-' || e.key === '_') {
        e.preventDefault();
        this.setView(zoomAt(this.view, this.vp(), 1 / 1.5, centre.x, centre.y));
      } else if (e.key === '0') {
        e.preventDefault();
        this.setView(fitView(this.vp()));
      } else if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        this.pin(this.cursor.row);
      } else if (e.key === 'Escape') {
        this.hideTooltip();
        if (this.pinned !== undefined) this.pin(undefined);
      }
      // Keys the map uses must not also reach the notebook's own keybindings (j/k, Enter to edit, …).
      e.stopPropagation();
    });
    this.listen(map, 'focus', () => this.moveCursor(0, 0));
    this.listen(map, 'blur', () => {
      this.hideTooltip();
      this.requestDraw();
    });
    // Keys typed in the token view (search box, arrows in the text) are the output's, not the notebook's.
    this.listen(this.frame, 'keydown', (e) => {
      if (e.target instanceof HTMLElement && e.target.closest('#tokens')) e.stopPropagation();
    });
    this.listen(dom.kind, 'change', () => this.switchKind(dom.kind.value as ViewKind));
    this.listen(dom.colormap, 'change', () => {
      this.state.colorMap = dom.colormap.value;
      this.updateColors();
      this.renderGrid();
      this.requestDraw();
    });
    this.listen(dom.scale, 'change', () => {
      this.state.scaleMode = dom.scale.value === 'log' ? 'log' : 'linear';
      this.updateColors();
      this.renderGrid();
      this.requestDraw();
    });
    this.listen(dom.reset, 'click', () => this.setView(fitView(this.vp())));
    this.listen(dom.exportPng, 'click', () => this.exportPng());
    this.listen(dom.exportCsv, 'click', () => this.exportCsv());
    const resize = new ResizeObserver(() => this.relayout());
    resize.observe(dom.plot);
    this.cleanups.push(() => resize.disconnect());
    // VS Code switches themes by changing the body's class and the root's variables: canvases follow.
    const theme = new MutationObserver(() => this.requestDraw());
    theme.observe(document.body, { attributes: true, attributeFilter: ['class'] });
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    this.cleanups.push(() => theme.disconnect());
  }
}
