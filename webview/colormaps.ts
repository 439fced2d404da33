// Colour maps from d3-scale-chromatic (bundled into dist/webview.js), turned into lookup tables once per change.
import {
  interpolateBlues, interpolateCividis, interpolateGreys, interpolateInferno, interpolateMagma,
  interpolatePlasma, interpolateRdBu, interpolateViridis,
} from 'd3-scale-chromatic';
import { buildLut, isColorMapName, type ColorMapName } from '../src/shared/colormap';

/** The d3 interpolator of each sequential map (the names are src/shared/colormap.ts's COLOR_MAP_NAMES). */
const SEQUENTIAL: Record<ColorMapName, (t: number) => string> = {
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
  const key = mapName(name, diverging);
  let lut = cache.get(key);
  if (!lut) {
    lut = buildLut(key === 'RdBu' ? divergingInterp : SEQUENTIAL[key as ColorMapName]);
    cache.set(key, lut);
  }
  return lut;
}

export function mapName(name: string, diverging: boolean): string {
  return diverging ? 'RdBu' : isColorMapName(name) ? name : 'viridis';
}
