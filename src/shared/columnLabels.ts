/**
 * The one rule for naming a heatmap's columns: query × key kinds use keyLabels, the output (queries × value
 * dimensions) uses valueLabels. The host (CSV, compare) and the webview (axes, tooltips) all ask here.
 */
import { isQueryKeyKind } from './inspect';
import type { ViewKind } from './types';

export function columnLabels<T>(labels: { keyLabels?: T; valueLabels?: T }, kind: ViewKind): T | undefined {
  return isQueryKeyKind(kind) ? labels.keyLabels : labels.valueLabels;
}
