/**
 * The sequential colour maps a user can pick (the attentionInspector.colorMap setting's enum in package.json):
 * the host validates the setting against this list and the webview draws each of them.
 */
export const COLOR_MAP_NAMES: readonly string[] = ['viridis', 'magma', 'inferno', 'plasma', 'cividis', 'blues', 'greys'];
