/** The exact reference: every variant, float64 arithmetic, float32 results. */
import { allocFloat32, combineHeads, prepareAttention, stackValues } from './project';
import { attendRows, maskedRowsWarning } from './rows';
import type { AttentionInput, AttentionResult } from './types';

export function computeAttention(input: AttentionInput): AttentionResult {
  const p = prepareAttention(input);
  const { heads, nq, nk, dk, dv } = p;
  const cells = heads * nq * nk;
  const what = `${heads > 1 ? `${heads}×` : ''}${nq}×${nk} attention maps`;
  const scores = allocFloat32(cells, what);
  const scaled = allocFloat32(cells, what);
  const weights = allocFloat32(cells, what);
  const headOutputs = new Float32Array(heads * nq * dv);
  const warnings = [...p.warnings];
  for (let h = 0; h < heads; h++) {
    const rows = attendRows(
      { q: p.q[h], k: p.k[h], v: p.v[h], nq, nk, dk, dv }, h, p.similarity, p.scaleFactor, p.mask, 0, nq,
      { scores, scaled, weights, output: headOutputs, weightsOffset: h * nq * nk, outputOffset: h * nq * dv },
    );
    const w = maskedRowsWarning(h, heads, rows);
    if (w) warnings.push(w);
  }
  const { output, outputDim } = combineHeads(p, headOutputs);
  return {
    heads, nq, nk, dk, dv, queryIsVector: p.queryIsVector, valuesAreScalars: p.valuesAreScalars,
    ...(p.perHead ? { perHead: true, kvHeads: p.kvHeads } : {}),
    scaleFactor: p.scaleFactor, scores, scaled, weights, headOutputs, output, outputDim,
    values: stackValues(p), valueDim: dv, warnings,
  };
}
