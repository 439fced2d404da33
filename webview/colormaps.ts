// Colour maps from d3-scale-chromatic (bundled into dist/webview.js), turned into lookup tables once per change.
import {
  interpolateBlues, interpolateCividis, interpolateGreys, interpolateInferno, interpolateMagma,
  interpolatePlasma, interpolateRdBu, interpolateViridis,
} from 'd3-scale-chromatic';
import { buildLut } from '../src/shared/colormap';

/** The sequential maps offered for weights (the attentionInspector.colorMap setting's values). */
export const SEQUENTIAL: Record<string, (t: number) => string> = {
  viridis: interpolateViridis,
  magma: interpolateMagma,
  inferno: interpolateInferno,
  plasma: interpolatePlasma,
  cividis: interpolateCividis,
  blues: interpolateBlues,
  greys: interpolateGreys,
};

/** RdBu runs red (low) → blue (high); reversed so positive scores are red, negative blue, 0 white. */
const divergingInterp = (t: number) => interpolateRdBu(1 - t);

const cache = new Map<string, Uint8Array>();

export function lutFor(name: string, diverging: boolean): Uint8Array {
  const key = diverging ? 'RdBu' : SEQUENTIAL[name] ? name : 'viridis';
  let lut = cache.get(key);
  if (!lut) {
    lut = buildLut(diverging ? divergingInterp : SEQUENTIAL[key]);
    cache.set(key, lut);
  }
  return lut;
}

export function mapName(name: string, diverging: boolean): string {
  return diverging ? 'RdBu' : SEQUENTIAL[name] ? name : 'viridis';
}
