/**
 * The attentionInspector.* settings, read, validated and clamped in one place, with one change event that fires
 * only after the new values are in (src/settings.ts feeds it from VS Code). Pure, so it runs in unit tests.
 */
import { SIMILARITIES } from './attention';
import type { Scale, Similarity } from './attention';
import { isColorMapName } from '../shared/colormap';

export interface InspectorSettings {
  readonly similarity: Similarity;
  readonly scale: Scale;
  readonly colorMap: string;
  readonly watchGlobs: readonly string[];
  readonly overviewSize: number;
  readonly maxCells: number;
}

export const DEFAULT_SETTINGS: InspectorSettings = {
  similarity: 'dot',
  scale: 'sqrt',
  colorMap: 'viridis',
  watchGlobs: ['**/*.{npy,npz,safetensors}', '**/*.json'],
  overviewSize: 512,
  maxCells: 67108864,
};

/** "sqrt" | "dk" | "none" | a positive finite number (also as text, since the setting is a string). */
export function parseScale(value: unknown): Scale | undefined {
  if (value === 'sqrt' || value === 'dk' || value === 'none') return value;
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * Reads the attentionInspector.* settings through `get` (the host passes getConfiguration().get). Settings are
 * user input: anything of the wrong type or out of range falls back to the default instead of reaching the engine.
 */
export function parseSettings(get: (key: string) => unknown): InspectorSettings {
  const similarity = get('defaultSimilarity');
  const colorMap = get('colorMap');
  const globs = get('watchGlobs');
  const overview = get('overviewSize');
  const maxCells = get('maxCells');
  return {
    similarity: SIMILARITIES.includes(similarity as Similarity) ? (similarity as Similarity) : DEFAULT_SETTINGS.similarity,
    scale: parseScale(get('defaultScale')) ?? DEFAULT_SETTINGS.scale,
    colorMap: isColorMapName(colorMap) ? colorMap : DEFAULT_SETTINGS.colorMap,
    watchGlobs: Array.isArray(globs) && globs.every((g) => typeof g === 'string' && g.length > 0)
      ? (globs as string[]) : DEFAULT_SETTINGS.watchGlobs,
    overviewSize: typeof overview === 'number' && Number.isFinite(overview)
      ? Math.min(4096, Math.max(64, Math.round(overview))) : DEFAULT_SETTINGS.overviewSize,
    maxCells: typeof maxCells === 'number' && Number.isFinite(maxCells) && maxCells >= 1024
      ? Math.floor(maxCells) : DEFAULT_SETTINGS.maxCells,
  };
}

export type SettingKey = keyof InspectorSettings;

/** The settings that changed between two reads (watchGlobs by value, not identity). */
export function changedSettings(before: InspectorSettings, after: InspectorSettings): SettingKey[] {
  return (Object.keys(after) as SettingKey[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/**
 * What an open heatmap does about a change, each at most once: the defaults and the cell cap change what a source
 * computes (reload, which also serves the new model); the overview size only changes what is served from the
 * model in memory (re-serve); the colour map only the webview's drawing.
 */
export function settingsEffect(changed: readonly SettingKey[]): { reload: boolean; reserve: boolean; colorMap: boolean } {
  const reload = changed.some((k) => k === 'similarity' || k === 'scale' || k === 'maxCells');
  return { reload, reserve: !reload && changed.includes('overviewSize'), colorMap: changed.includes('colorMap') };
}

export interface SettingsChange {
  readonly before: InspectorSettings;
  readonly changed: readonly SettingKey[];
}

export interface Subscription {
  dispose(): void;
}

/** The settings now and one event after each change; listeners see the new values in `current`. */
export interface SettingsSource {
  readonly current: InspectorSettings;
  onDidChange(listener: (change: SettingsChange) => void): Subscription;
}

/**
 * Holds the parsed settings. `refresh()` (called by the host on a configuration change) re-reads first and only
 * then tells listeners, so no listener can see the old values — the watch-glob lag came from a listener that ran
 * before the re-read.
 */
export class SettingsStore implements SettingsSource {
  private value: InspectorSettings;
  private readonly listeners = new Set<(change: SettingsChange) => void>();

  constructor(private readonly read: () => InspectorSettings) {
    this.value = read();
  }

  get current(): InspectorSettings {
    return this.value;
  }

  refresh(): void {
    const before = this.value;
    this.value = this.read();
    const changed = changedSettings(before, this.value);
    if (changed.length === 0) return;
    for (const l of [...this.listeners]) l({ before, changed });
  }

  onDidChange(listener: (change: SettingsChange) => void): Subscription {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
}

/**
 * Calls `apply` with the picked value now and again after each change of it (compared by value), with the value
 * already re-read: the watcher follows its globs this way.
 */
export function followSetting<T>(source: SettingsSource, pick: (s: InspectorSettings) => T, apply: (value: T) => void): Subscription {
  let last = JSON.stringify(pick(source.current));
  apply(pick(source.current));
  return source.onDidChange(() => {
    const value = pick(source.current);
    const key = JSON.stringify(value);
    if (key === last) return;
    last = key;
    apply(value);
  });
}
