import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { COLOR_MAP_NAMES, isColorMapName } from '../../src/shared/colormap';
import { isQueryKeyKind } from '../../src/shared/inspect';
import { clampCell, clampIndex, clampSelection } from '../../src/shared/selection';
import { usesValueLabels, VIEW_KINDS } from '../../src/shared/types';

describe('shared: one of each (selection clamp, colour-map names, value-label kinds)', () => {
  it('clamps a layer/head selection and a cell into range, whole and non-negative', () => {
    assert.deepStrictEqual(clampSelection({ layer: 7, head: -2 }, 4, 8), { layer: 3, head: 0 });
    assert.deepStrictEqual(clampSelection({ layer: 1.7, head: 5.2 }, 4, 8), { layer: 1, head: 5 });
    assert.deepStrictEqual(clampSelection(undefined, 4, 8), { layer: 0, head: 0 });
    assert.deepStrictEqual(clampCell({ row: 9, col: -1 }, 3, 8), { row: 2, col: 0 });
    assert.strictEqual(clampIndex(Number.NaN, 5), 0);
    assert.strictEqual(clampIndex(3, 0), 0);
  });

  it('lists the colour maps the colorMap setting offers, in its order', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { enum?: string[] }> } | { properties: Record<string, { enum?: string[] }> }[] };
    };
    const conf = pkg.contributes.configuration;
    const props = Array.isArray(conf) ? Object.assign({}, ...conf.map((c) => c.properties)) : conf.properties;
    assert.deepStrictEqual(props['attentionInspector.colorMap'].enum, [...COLOR_MAP_NAMES]);
    assert.ok(isColorMapName('magma'));
    assert.ok(!isColorMapName('RdBu') && !isColorMapName('__proto__') && !isColorMapName(undefined));
  });

  it('says which kinds are named by value labels (output) and which by key labels', () => {
    assert.deepStrictEqual(VIEW_KINDS.filter(usesValueLabels), ['output']);
    for (const k of VIEW_KINDS) assert.strictEqual(isQueryKeyKind(k), !usesValueLabels(k), k);
  });
});
