// The heatmap webview entry; built into dist/webview.js.
export {};
