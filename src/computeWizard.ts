/**
 * Compute Attention from Q, K, V…: six quick picks (Q, K, V, similarity, scale, mask) and the head count, each
 * offering the last run's answer first; the answers are remembered per workspace.
 */
import * as vscode from 'vscode';
import type { CommandDeps } from './commandDeps';
import { parseComputeChoice } from './computeChoice';
import type { ComputeChoice } from './computeChoice';
import { SIMILARITIES } from './core/attention';
import { parseScale } from './core/settings';
import { candidates, pickOne } from './matrixCandidates';
import type { Candidate } from './matrixCandidates';
import { computeSource } from './sources/computeSource';

const LAST_COMPUTE_KEY = 'attentionInspector.lastCompute';

type Role = 'q' | 'k' | 'v';
const ROLE_NAMES: Record<Role, RegExp> = {
  q: /^(q|query|queries|x|inputs?)$/i,
  k: /^(k|key|keys)$/i,
  v: /^(v|value|values)$/i,
};

/** Orders candidates so Enter picks the likely one: last choice, then a role-named member of the same file. */
export function rankFor(role: Role, items: readonly Candidate[], last: string | undefined, sameFileAs?: string): Candidate[] {
  const score = (c: Candidate) =>
    (c.ref === last ? 8 : 0) + (ROLE_NAMES[role].test(c.name) ? 4 : 0) + (sameFileAs && c.file === sameFileAs ? 2 : 0);
  return [...items].map((c, i) => ({ c, i, s: score(c) })).sort((a, b) => b.s - a.s || a.i - b.i).map((x) => x.c);
}

export async function computeAttentionCommand(deps: CommandDeps): Promise<void> {
  const state = deps.context.workspaceState;
  const last = parseComputeChoice(state.get(LAST_COMPUTE_KEY));
  const settings = deps.env.settings();
  const all = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Listing matrix files' }, () => candidates());
  if (all.length === 0) {
    void vscode.window.showInformationMessage('Attention Inspector: no .npy, .npz or JSON matrix files in this workspace. Try "Attention: Open Samples".');
    return;
  }
  const title = 'Compute Attention';
  const q = await pickOne(rankFor('q', all, last?.q), `${title} (1/6)`, 'Q: the queries');
  if (!q) return;
  const same: Candidate = { ref: '', file: q.file, name: '', label: '$(arrow-both) Same as Q (self-attention)' };
  const kItems = rankFor('k', all.filter((c) => c !== q), last?.k, q.file);
  const kPicks = ROLE_NAMES.k.test(kItems[0]?.name ?? '') || (last?.k && kItems[0]?.ref === last.k) ? [...kItems, same] : [same, ...kItems];
  const k = await pickOne(kPicks, `${title} (2/6)`, 'K: the keys');
  if (!k) return;
  const kRef = k.ref || undefined;
  const sameK: Candidate = { ref: '', file: q.file, name: '', label: '$(arrow-both) Same as K' };
  const vItems = rankFor('v', all.filter((c) => c !== q && c !== k), last?.v, (kRef ? k.file : q.file));
  const vPicks = ROLE_NAMES.v.test(vItems[0]?.name ?? '') || (last?.v && vItems[0]?.ref === last.v) ? [...vItems, sameK] : [sameK, ...vItems];
  const v = await pickOne(vPicks, `${title} (3/6)`, 'V: the values');
  if (!v) return;
  // Q split into heads ([H, n, d]): the heads come from its shape; [B, H, n, d] asks which batch entry.
  const perHead = (q.shape?.length ?? 0) >= 3;
  let batch: number | undefined;
  const batches = q.shape?.length === 4 ? q.shape[0] : 1;
  if (batches > 1) {
    const items = Array.from({ length: batches }, (_, b) => ({ label: `batch ${b}`, description: `of ${batches}`, b }));
    const picked = await pickOne(items, title, 'Q, K and V have a batch axis: which entry to compute');
    if (!picked) return;
    batch = picked.b;
  }

  const similarityDefault = last?.similarity ?? settings.similarity;
  const sim = await pickOne(
    [similarityDefault, ...SIMILARITIES.filter((s) => s !== similarityDefault)].map((s) => ({ label: s, description: SIM_HELP[s] })),
    `${title} (4/6)`, 'Similarity measure');
  if (!sim) return;

  const scaleDefault = String(last?.scale ?? settings.scale);
  const scales = ['sqrt', 'dk', 'none'];
  const scaleItems = [scaleDefault, ...scales.filter((s) => s !== scaleDefault)].map((s) => ({ label: s, description: SCALE_HELP[s] ?? 'a fixed factor' }));
  scaleItems.push({ label: 'Custom…', description: 'a number that multiplies the scores' });
  const scalePick = await pickOne(scaleItems, `${title} (5/6)`, 'Scale applied to the scores before softmax');
  if (!scalePick) return;
  let scale = parseScale(scalePick.label);
  if (scalePick.label === 'Custom…') {
    const typed = await vscode.window.showInputBox({
      title, prompt: 'Scale factor (a positive number)', value: '1', ignoreFocusOut: true,
      validateInput: (s) => (parseScale(s) === undefined ? 'Enter a positive number, or sqrt, dk or none' : undefined),
    });
    if (typed === undefined) return;
    scale = parseScale(typed);
  }
  if (scale === undefined) return;

  const maskDefault = last?.mask ?? 'none';
  const mask = await pickOne(
    [maskDefault, maskDefault === 'none' ? 'causal' : 'none'].map((m) => ({ label: m, description: m === 'causal' ? 'query i sees keys 0…i only' : 'every query sees every key' })),
    `${title} (6/6)`, 'Mask');
  if (!mask) return;

  const headsText = perHead ? '1' : await vscode.window.showInputBox({
    title, prompt: 'Number of heads (1 = single-head attention; widths are split evenly among heads)',
    value: String(last?.heads ?? 1), ignoreFocusOut: true,
    validateInput: (s) => (/^\d+$/.test(s.trim()) && Number(s) >= 1 && Number(s) <= 1024 ? undefined : 'A whole number from 1 to 1024'),
  });
  if (headsText === undefined) return;

  const choice: ComputeChoice = {
    q: q.ref, k: kRef, v: v.ref || kRef,
    similarity: sim.label as ComputeChoice['similarity'], scale, mask: mask.label as 'none' | 'causal', heads: Number(headsText.trim()),
    ...(batch !== undefined ? { batch } : {}),
  };
  await state.update(LAST_COMPUTE_KEY, choice);
  await deps.panels.show(computeSource(choice, deps.env), vscode.ViewColumn.Active);
}

const SIM_HELP: Record<string, string> = {
  dot: 'q · k (scaled dot-product attention)',
  cosine: 'cos(q, k)',
  laplacian: '−‖q − k‖₁',
  euclidean: '−‖q − k‖²',
};
const SCALE_HELP: Record<string, string> = { sqrt: '1/√d_k', dk: '1/d_k', none: 'no scaling' };
