import * as assert from 'assert';
import { buildLut, chooseScale, colorize, lutIndex, parseColor, unit, valueAt } from '../../src/shared/colormap';
import { linearTicks, logTicks, niceStep, scaleTicks, tickLabel } from '../../src/shared/ticks';

describe('view: colour mapping', () => {
  it('parses both colour formats d3-scale-chromatic returns', () => {
    assert.deepStrictEqual(parseColor('#440154'), [0x44, 0x01, 0x54]);
    assert.deepStrictEqual(parseColor('rgb(103, 0, 31)'), [103, 0, 31]);
  });

  it('builds a 256-entry RGBA table sampled from 0 to 1', () => {
    const lut = buildLut((t) => `rgb(${Math.round(t * 255)}, 0, ${255 - Math.round(t * 255)})`);
    assert.strictEqual(lut.length, 1024);
    assert.deepStrictEqual(Array.from(lut.subarray(0, 4)), [0, 0, 255, 255]);
    assert.deepStrictEqual(Array.from(lut.subarray(1020, 1024)), [255, 0, 0, 255]);
    assert.deepStrictEqual(Array.from(lut.subarray(128 * 4, 128 * 4 + 4)), [128, 0, 127, 255]);
  });

  it('weights use a sequential scale over their range; scores a diverging one centred on 0', () => {
    const w = chooseScale('weights', 0.0934, 0.1576, 'linear');
    assert.deepStrictEqual([w.diverging, w.lo, w.hi], [false, 0.0934, 0.1576]);
    assert.strictEqual(unit(0.0934, w), 0);
    assert.strictEqual(unit(0.1576, w), 1);
    const s = chooseScale('scores', -0.5, 2, 'linear');
    assert.deepStrictEqual([s.diverging, s.lo, s.hi], [true, -2, 2]);
    assert.strictEqual(unit(0, s), 0.5);
    assert.strictEqual(unit(-2, s), 0);
    assert.strictEqual(unit(1, s), 0.75);
    // Output or data that changes sign is diverging too; differences always.
    assert.strictEqual(chooseScale('data', -1, 1, 'linear').diverging, true);
    assert.strictEqual(chooseScale('difference', 0, 0.1, 'linear').diverging, true);
  });

  it('log scales: decades are equal steps; symlog keeps the sign; valueAt inverts unit', () => {
    const l = chooseScale('weights', 1e-4, 1, 'log');
    assert.strictEqual(l.lo, 1e-4);
    assert.ok(Math.abs(unit(1e-2, l) - 0.5) < 1e-12);
    assert.ok(Math.abs(valueAt(0.25, l) - 1e-3) < 1e-15);
    const d = chooseScale('scaled', -10, 10, 'log');
    assert.ok(Math.abs(unit(5, d) - 0.5 - (0.5 - unit(-5, d))) < 1e-12);
    for (const t of [0, 0.1, 0.5, 0.8, 1]) assert.ok(Math.abs(unit(valueAt(t, d), d) - t) < 1e-9);
  });

  it('masked −∞ and NaN get the mask colour; values map to their LUT bin', () => {
    const lut = new Uint8Array(256 * 4);
    for (let i = 0; i < 256; i++) lut.set([i, 255 - i, 0, 255], i * 4);
    const s = chooseScale('weights', 0, 1, 'linear');
    const out = new Uint8ClampedArray(4 * 4);
    colorize(Float32Array.from([0, 0.5, 1, -Infinity]), lut, s, [9, 9, 9, 255], out);
    assert.deepStrictEqual(Array.from(out), [0, 255, 0, 255, 128, 127, 0, 255, 255, 0, 0, 255, 9, 9, 9, 255]);
    assert.strictEqual(lutIndex(NaN, s), -1);
    // The log path gives the same bins as unit() for positive values.
    const ls = chooseScale('weights', 0.01, 1, 'log');
    colorize(Float32Array.from([0.1]), lut, ls, [0, 0, 0, 0], out);
    assert.strictEqual(out[0], 128);
  });
});

describe('view: legend ticks', () => {
  it('picks 1-2-5 steps and exact multiples', () => {
    assert.strictEqual(niceStep(0, 1, 5), 0.2);
    assert.strictEqual(niceStep(0.0934, 0.1576, 5), 0.02);
    assert.deepStrictEqual(linearTicks(0.0934, 0.1576, 5), [0.1, 0.12, 0.14]);
    assert.deepStrictEqual(linearTicks(-2, 2, 4), [-2, -1, 0, 1, 2]);
    assert.deepStrictEqual(linearTicks(0, 0.3, 3), [0, 0.1, 0.2, 0.3]);
  });

  it('puts log ticks on powers of ten', () => {
    assert.deepStrictEqual(logTicks(1e-4, 1, 5), [1e-4, 1e-3, 1e-2, 1e-1, 1]);
    // Seven decades in at most three ticks: every third power.
    assert.deepStrictEqual(logTicks(1e-6, 1, 3), [1e-6, 1e-3, 1]);
  });

  it('places ticks along the legend and labels them briefly', () => {
    const s = chooseScale('scores', -1, 1, 'linear');
    const ticks = scaleTicks(s, 4);
    assert.deepStrictEqual(ticks.map((t) => t.label), ['-1', '-0.5', '0', '0.5', '1']);
    assert.deepStrictEqual(ticks.map((t) => t.t), [0, 0.25, 0.5, 0.75, 1]);
    assert.strictEqual(tickLabel(1e-6), '1e-6');
    assert.strictEqual(tickLabel(2.5e-7), '2.5e-7');
    assert.strictEqual(tickLabel(0.12), '0.12');
  });
});
