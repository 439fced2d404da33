// Drawing the matrix itself: WebGL2 (float texture + colour lookup texture; zoom, pan and recolouring are
// uniform changes) or, where WebGL2 is missing, a 2D canvas fed by ImageData. No DOM element per cell.
import { colorize, type ColorScale, symlogC } from '../src/shared/colormap';
import type { View } from '../src/shared/hit';

/** A block of cells to draw: `data` is texRows × texCols; texel (i, j) covers full cells starting at
 * (r0 + i·blockRows, c0 + j·blockCols). */
export interface Layer {
  data: Float32Array;
  texRows: number;
  texCols: number;
  r0: number;
  c0: number;
  blockRows: number;
  blockCols: number;
}

export interface Colors {
  lut: Uint8Array;
  scale: ColorScale;
  /** RGBA of masked (−∞) and other non-finite cells. */
  mask: [number, number, number, number];
}

export interface Renderer {
  readonly name: 'webgl2' | '2d';
  setOverview(layer: Layer): void;
  setTile(layer: Layer | undefined): void;
  setColors(colors: Colors): void;
  /** Draw `rows × cols` cells seen through `view` on a canvas of cssW × cssH CSS pixels. */
  draw(view: View, rows: number, cols: number, cssW: number, cssH: number, dpr: number): void;
  /** Called when the picture must be drawn again without a data change (a lost WebGL context came back). */
  onRestored?: () => void;
}

export function createRenderer(canvas: HTMLCanvasElement, prefer2d: boolean): Renderer {
  if (!prefer2d) {
    const gl = canvas.getContext('webgl2', { antialias: false, preserveDrawingBuffer: false, premultipliedAlpha: true });
    if (gl) {
      try {
        return new GlRenderer(gl);
      } catch {
        // Shader compile or texture format refused (some software GL): the 2D path below is complete.
      }
    }
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context');
  return new Canvas2dRenderer(ctx);
}

/** Cell area [c0, c0+w) × [r0, r0+h) of a layer clipped to what is visible, in cells. */
function clipLayer(l: Layer, view: View, rows: number, cols: number, cssW: number, cssH: number) {
  const x1 = Math.min(cols, l.c0 + l.texCols * l.blockCols, view.x0 + cssW / view.cellPx);
  const y1 = Math.min(rows, l.r0 + l.texRows * l.blockRows, view.y0 + cssH / view.cellPx);
  const x0 = Math.max(l.c0, view.x0);
  const y0 = Math.max(l.r0, view.y0);
  return x1 > x0 && y1 > y0 ? { x0, y0, x1, y1 } : undefined;
}

class Canvas2dRenderer implements Renderer {
  readonly name = '2d';
  private ov?: { layer: Layer; img?: HTMLCanvasElement };
  private tile?: { layer: Layer; img?: HTMLCanvasElement };
  private colors?: Colors;

  constructor(private readonly ctx: CanvasRenderingContext2D) {}

  setOverview(layer: Layer): void {
    this.ov = { layer };
  }

  setTile(layer: Layer | undefined): void {
    this.tile = layer ? { layer } : undefined;
  }

  setColors(colors: Colors): void {
    this.colors = colors;
    if (this.ov) this.ov.img = undefined;
    if (this.tile) this.tile.img = undefined;
  }

  /** Colour a layer into an offscreen canvas once; zoom and pan then only scale it with drawImage. */
  private image(entry: { layer: Layer; img?: HTMLCanvasElement }): HTMLCanvasElement | undefined {
    if (entry.img || !this.colors) return entry.img;
    const { layer } = entry;
    const c = document.createElement('canvas');
    c.width = layer.texCols;
    c.height = layer.texRows;
    const cx = c.getContext('2d');
    if (!cx) return undefined;
    const img = cx.createImageData(layer.texCols, layer.texRows);
    colorize(layer.data, this.colors.lut, this.colors.scale, this.colors.mask, img.data);
    cx.putImageData(img, 0, 0);
    entry.img = c;
    return c;
  }

  draw(view: View, rows: number, cols: number, cssW: number, cssH: number, dpr: number): void {
    const ctx = this.ctx;
    const cw = Math.round(cssW * dpr);
    const ch = Math.round(cssH * dpr);
    if (ctx.canvas.width !== cw || ctx.canvas.height !== ch) {
      ctx.canvas.width = cw;
      ctx.canvas.height = ch;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, cw, ch);
    ctx.imageSmoothingEnabled = false;
    for (const entry of [this.ov, this.tile]) {
      if (!entry) continue;
      const img = this.image(entry);
      const clip = clipLayer(entry.layer, view, rows, cols, cssW, cssH);
      if (!img || !clip) continue;
      const l = entry.layer;
      const k = view.cellPx * dpr;
      // Source rectangle in texels, destination in device pixels: only the visible part is scaled.
      ctx.drawImage(img,
        (clip.x0 - l.c0) / l.blockCols, (clip.y0 - l.r0) / l.blockRows,
        (clip.x1 - clip.x0) / l.blockCols, (clip.y1 - clip.y0) / l.blockRows,
        (clip.x0 - view.x0) * k, (clip.y0 - view.y0) * k, (clip.x1 - clip.x0) * k, (clip.y1 - clip.y0) * k);
    }
  }
}

const VERTEX = `#version 300 es
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

// Non-finite cells are replaced by MASKED before upload (texture formats and drivers differ on ±∞ and NaN).
const MASKED = -3.0e38;

const FRAGMENT = `#version 300 es
precision highp float;
precision highp sampler2D;
uniform sampler2D uOv;
uniform sampler2D uTile;
uniform sampler2D uLut;
uniform vec2 uOrigin;     // cell at the top-left corner (x = column)
uniform float uCellPx;    // device pixels per cell
uniform float uHeight;    // canvas height in device pixels (WebGL's y runs upwards)
uniform vec2 uSize;       // cols, rows
uniform vec4 uOvPlace;    // c0, r0, blockCols, blockRows
uniform vec4 uTilePlace;  // c0, r0, cols, rows of the full-resolution tile (cols = 0: none)
uniform int uMode;        // 0 linear, 1 log, 2 symmetric log
uniform float uLo;
uniform float uHi;
uniform float uC;
uniform vec4 uMask;
out vec4 outColor;
void main() {
  vec2 p = vec2(gl_FragCoord.x, uHeight - gl_FragCoord.y);
  vec2 cell = floor(uOrigin + p / uCellPx);
  if (cell.x < 0.0 || cell.y < 0.0 || cell.x >= uSize.x || cell.y >= uSize.y) { outColor = vec4(0.0); return; }
  float v;
  vec2 t = cell - uTilePlace.xy;
  if (uTilePlace.z > 0.0 && t.x >= 0.0 && t.y >= 0.0 && t.x < uTilePlace.z && t.y < uTilePlace.w) {
    v = texelFetch(uTile, ivec2(t), 0).r;
  } else {
    v = texelFetch(uOv, ivec2(floor((cell - uOvPlace.xy) / uOvPlace.zw)), 0).r;
  }
  if (v < -1.0e38) { outColor = uMask; return; }
  float u;
  if (uMode == 1) u = v <= uLo ? 0.0 : log(v / uLo) / log(uHi / uLo);
  else if (uMode == 2) u = 0.5 + sign(v) * log(1.0 + abs(v) / uC) / (2.0 * log(1.0 + uHi / uC));
  else u = (v - uLo) / (uHi - uLo);
  int idx = clamp(int(floor(u * 256.0)), 0, 255);
  outColor = texelFetch(uLut, ivec2(idx, 0), 0);
}`;

class GlRenderer implements Renderer {
  readonly name = 'webgl2';
  onRestored?: () => void;
  private prog!: WebGLProgram;
  private ovTex!: WebGLTexture;
  private tileTex!: WebGLTexture;
  private lutTex!: WebGLTexture;
  private readonly loc: Record<string, WebGLUniformLocation | null> = {};
  private ov?: Layer;
  private tile?: Layer;
  private colors?: Colors;
  private maxTex = 0;
  private lost = false;

  constructor(private readonly gl: WebGL2RenderingContext) {
    this.init();
    const canvas = gl.canvas as HTMLCanvasElement;
    // GPU resets and driver updates lose the context: keep the data, rebuild the GL objects when it returns.
    canvas.addEventListener('webglcontextlost', (e) => {
      e.preventDefault();
      this.lost = true;
    });
    canvas.addEventListener('webglcontextrestored', () => {
      this.lost = false;
      this.init();
      if (this.ov) this.setOverview(this.ov);
      if (this.tile) this.setTile(this.tile);
      if (this.colors) this.setColors(this.colors);
      this.onRestored?.();
    });
  }

  private init(): void {
    const gl = this.gl;
    const prog = gl.createProgram();
    for (const [type, src] of [[gl.VERTEX_SHADER, VERTEX], [gl.FRAGMENT_SHADER, FRAGMENT]] as const) {
      const s = gl.createShader(type);
      if (!s) throw new Error('createShader failed');
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s) ?? 'shader');
      gl.attachShader(prog, s);
    }
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(prog) ?? 'link');
    this.prog = prog;
    this.maxTex = gl.getParameter(gl.MAX_TEXTURE_SIZE) as number;
    for (const n of ['uOv', 'uTile', 'uLut', 'uOrigin', 'uCellPx', 'uHeight', 'uSize', 'uOvPlace', 'uTilePlace', 'uMode', 'uLo', 'uHi', 'uC', 'uMask']) {
      this.loc[n] = gl.getUniformLocation(prog, n);
    }
    this.ovTex = this.texture();
    this.tileTex = this.texture();
    this.lutTex = this.texture();
    // An R32F upload must work here, or the caller falls back to 2D.
    this.upload(this.tileTex, new Float32Array(1), 1, 1);
    if (gl.getError() !== gl.NO_ERROR) throw new Error('R32F textures are not supported');
  }

  private texture(): WebGLTexture {
    const gl = this.gl;
    const t = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, t);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    return t;
  }

  private upload(tex: WebGLTexture, data: Float32Array, w: number, h: number): void {
    const gl = this.gl;
    if (w > this.maxTex || h > this.maxTex) throw new Error(`texture ${w}×${h} exceeds ${this.maxTex}`);
    let clean = data;
    for (let i = 0; i < data.length; i++) {
      if (data[i] - data[i] !== 0) {
        clean = data.slice();
        for (let j = i; j < clean.length; j++) if (clean[j] - clean[j] !== 0) clean[j] = MASKED;
        break;
      }
    }
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, w, h, 0, gl.RED, gl.FLOAT, clean);
  }

  setOverview(layer: Layer): void {
    this.ov = layer;
    if (this.lost) return;
    this.upload(this.ovTex, layer.data, layer.texCols, layer.texRows);
  }

  setTile(layer: Layer | undefined): void {
    this.tile = layer;
    if (layer && !this.lost) this.upload(this.tileTex, layer.data, layer.texCols, layer.texRows);
  }

  setColors(colors: Colors): void {
    this.colors = colors;
    if (this.lost) return;
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.lutTex);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, colors.lut.length / 4, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, colors.lut);
  }

  draw(view: View, rows: number, cols: number, cssW: number, cssH: number, dpr: number): void {
    if (this.lost) return;
    const gl = this.gl;
    const canvas = gl.canvas as HTMLCanvasElement;
    const cw = Math.round(cssW * dpr);
    const ch = Math.round(cssH * dpr);
    if (canvas.width !== cw || canvas.height !== ch) {
      canvas.width = cw;
      canvas.height = ch;
    }
    gl.viewport(0, 0, cw, ch);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!this.ov || !this.colors) return;
    gl.useProgram(this.prog);
    const L = this.loc;
    const units: [WebGLTexture, string][] = [[this.ovTex, 'uOv'], [this.tileTex, 'uTile'], [this.lutTex, 'uLut']];
    units.forEach(([tex, name], i) => {
      gl.activeTexture(gl.TEXTURE0 + i);
      gl.bindTexture(gl.TEXTURE_2D, tex);
      gl.uniform1i(L[name], i);
    });
    gl.uniform2f(L.uOrigin, view.x0, view.y0);
    gl.uniform1f(L.uCellPx, view.cellPx * dpr);
    gl.uniform1f(L.uHeight, ch);
    gl.uniform2f(L.uSize, cols, rows);
    const o = this.ov;
    gl.uniform4f(L.uOvPlace, o.c0, o.r0, o.blockCols, o.blockRows);
    const t = this.tile;
    gl.uniform4f(L.uTilePlace, t ? t.c0 : 0, t ? t.r0 : 0, t ? t.texCols : 0, t ? t.texRows : 0);
    const s = this.colors.scale;
    gl.uniform1i(L.uMode, s.mode === 'log' ? (s.diverging ? 2 : 1) : 0);
    gl.uniform1f(L.uLo, s.lo);
    gl.uniform1f(L.uHi, s.hi);
    gl.uniform1f(L.uC, symlogC(s));
    const m = this.colors.mask;
    gl.uniform4f(L.uMask, m[0] / 255, m[1] / 255, m[2] / 255, m[3] / 255);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }
}
