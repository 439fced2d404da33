import { computeAttention } from '../attention';
import type { AttentionInput, AttentionResult, FastOptions } from '../attention';

export async function computeFast(input: AttentionInput, _options: FastOptions): Promise<AttentionResult> {
  return computeAttention(input);
}
