// Narrow floats widened by the native addon (huge pages, one C loop) give exactly the JavaScript loop's bits, for
// every bfloat16 and float16 pattern and every float8 code; with the kernel setting on wasm the JavaScript loop runs.
import * as assert from 'assert';
import { decodeBFloat16, decodeFloat8, float8Table } from '../../src/core/floatDecode';
import { decodeFloat16, float16Table } from '../../src/core/float16';
import { kernelPreference, loadNative, setKernelPreference } from '../../src/core/compute/native';

/** Every 16-bit pattern, twice (above the addon's size threshold). */
const all16 = Uint16Array.from({ length: 1 << 17 }, (_, i) => i & 0xffff);
const all8 = Uint8Array.from({ length: 1 << 17 }, (_, i) => i & 0xff);

function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function expectBits(got: Float32Array, want: (i: number) => number, what: string): void {
  const g = bitsOf(got);
  for (let i = 0; i < g.length; i++) if (g[i] !== want(i) >>> 0) assert.fail(`${what}: value ${i} is 0x${g[i].toString(16)}, want 0x${(want(i) >>> 0).toString(16)}`);
}

describe('widening bfloat16, float16 and float8 to float32', () => {
  const before = kernelPreference();
  after(() => setKernelPreference(before));

  for (const choice of ['auto', 'wasm'] as const) {
    it(`${choice === 'auto' ? 'the native addon (where built)' : 'the JavaScript loop (kernel: wasm)'}: every pattern exactly`, function () {
      if (choice === 'auto' && !loadNative()) this.skip(); // no C compiler at install: the addon is not there
      setKernelPreference(choice);
      const f16 = bitsOf(float16Table());
      expectBits(decodeBFloat16(all16), (i) => all16[i] << 16, 'bfloat16');
      expectBits(decodeFloat16(all16), (i) => f16[all16[i]], 'float16');
      for (const kind of ['float8_e4m3fn', 'float8_e5m2'] as const) {
        const t = float8Table(kind);
        expectBits(decodeFloat8(all8, kind), (i) => t[all8[i]], kind);
      }
      // A subarray view (a tensor inside a larger read) widens only its own values.
      const view = all16.subarray(3, 3 + 70000);
      expectBits(decodeBFloat16(view), (i) => view[i] << 16, 'bfloat16 view');
    });
  }
});
