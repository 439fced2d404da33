/**
 * Puts the tokens saved beside a dump (core/tokens.ts: an .npz `tokens` member, safetensors __metadata__) on a
 * heatmap model's axes, shown as a person reads them (shared/tokens.ts). Tokens never stop a map from opening:
 * labels that do not fit the axes, or a `tokens` that is not strings, become a warning on the model.
 */
import { MatrixError } from '../ndarray';
import { tokenLabels } from '../tokens';
import { labelTokens } from '../../shared/tokens';
import type { HeatmapModel } from '../../shared/types';

export async function withTokenLabels(model: HeatmapModel, file: string): Promise<HeatmapModel> {
  const m = model.kinds[model.defaultKind] ?? Object.values(model.kinds).find((x) => x !== undefined);
  if (!m) return model;
  let found;
  try {
    found = await tokenLabels(file, { queries: m.rows, keys: m.cols });
  } catch (e) {
    if (!(e instanceof MatrixError)) throw e;
    return { ...model, warnings: [...model.warnings, `${e.problem}; the axes are numbered instead`] };
  }
  if (!found.queryLabels && !found.keyLabels && found.warnings.length === 0) return model;
  return {
    ...model,
    queryLabels: found.queryLabels ? labelTokens(found.queryLabels) : model.queryLabels,
    keyLabels: found.keyLabels ? labelTokens(found.keyLabels) : model.keyLabels,
    subtitle: found.source ? [model.subtitle, `tokens: ${found.source}`].filter(Boolean).join(' · ') : model.subtitle,
    warnings: [...model.warnings, ...found.warnings],
  };
}
