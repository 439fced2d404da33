import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  changedSettings, DEFAULT_SETTINGS, followSetting, parseSettings, SettingsStore, settingsEffect,
} from '../../src/core/settings';
import type { InspectorSettings } from '../../src/core/settings';
import { SIMILARITIES } from '../../src/core/attention';
import { COLOR_MAP_NAMES } from '../../src/shared/colormap';

const ROOT = path.join(__dirname, '..', '..', '..');

/** A configuration the test edits, read through parseSettings like getConfiguration().get. */
function fakeConfig(initial: Record<string, unknown>) {
  const values = { ...initial };
  return { values, read: (): InspectorSettings => parseSettings((k) => values[k]) };
}

describe('host: one settings module', () => {
  it('bug 3: a watch-glob follower gets the new globs on the first change, not the next one', () => {
    const config = fakeConfig({ watchGlobs: ['**/*.npy'] });
    const store = new SettingsStore(config.read);
    const seen: (readonly string[])[] = [];
    followSetting(store, (s) => s.watchGlobs, (globs) => seen.push(globs));
    config.values.watchGlobs = ['**/*.npz'];
    store.refresh();
    assert.deepStrictEqual(seen, [['**/*.npy'], ['**/*.npz']]);
    // Another setting changing does not rebuild the watchers.
    config.values.colorMap = 'magma';
    store.refresh();
    assert.strictEqual(seen.length, 2);
  });

  it('fires one event per change, after the re-read, naming what changed', () => {
    const config = fakeConfig({ overviewSize: 512 });
    const store = new SettingsStore(config.read);
    const events: { changed: readonly string[]; now: number; before: number }[] = [];
    store.onDidChange(({ changed, before }) => events.push({ changed, now: store.current.overviewSize, before: before.overviewSize }));
    store.refresh();
    assert.deepStrictEqual(events, [], 'nothing changed: no event');
    config.values.overviewSize = 100;
    config.values.defaultSimilarity = 'cosine';
    store.refresh();
    assert.deepStrictEqual(events, [{ changed: ['similarity', 'overviewSize'], now: 100, before: 512 }]);
  });

  it('bug 5: a new overview size re-serves the open views and does not reload them', () => {
    assert.deepStrictEqual(settingsEffect(['overviewSize']), { reload: false, reserve: true, colorMap: false });
    // Defaults and the cap reload (and a reload serves at the new size, so no second re-serve).
    for (const k of ['similarity', 'scale', 'maxCells'] as const) {
      assert.deepStrictEqual(settingsEffect([k, 'overviewSize']), { reload: true, reserve: false, colorMap: false }, k);
    }
    assert.deepStrictEqual(settingsEffect(['colorMap']), { reload: false, reserve: false, colorMap: true });
    assert.deepStrictEqual(settingsEffect(['watchGlobs']), { reload: false, reserve: false, colorMap: false });
  });

  it('bug 5: the colour map the views draw with is validated like every other setting', () => {
    assert.strictEqual(parseSettings((k) => (k === 'colorMap' ? 'rainbow' : undefined)).colorMap, DEFAULT_SETTINGS.colorMap);
    assert.strictEqual(parseSettings((k) => (k === 'colorMap' ? 'cividis' : undefined)).colorMap, 'cividis');
    assert.deepStrictEqual(changedSettings(DEFAULT_SETTINGS, { ...DEFAULT_SETTINGS, watchGlobs: [...DEFAULT_SETTINGS.watchGlobs] }), []);
  });

  it('one list of similarities and of colour maps, the same as the settings offer in package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const props = pkg.contributes.configuration.properties;
    assert.deepStrictEqual(props['attentionInspector.colorMap'].enum, [...COLOR_MAP_NAMES]);
    assert.deepStrictEqual(props['attentionInspector.defaultSimilarity'].enum, [...SIMILARITIES]);
  });
});
