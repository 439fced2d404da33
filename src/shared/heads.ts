/**
 * The head metrics as both the host (src/core/heads.ts computes them) and the webview (the head table draws them)
 * name them, and the head table as it travels to the webview.
 */

export const HEAD_METRICS = ['entropy', 'max', 'bos', 'self', 'previous_token', 'duplicate_token', 'induction'] as const;
export type HeadMetric = (typeof HEAD_METRICS)[number];
/** The metrics that need the tokens of the sequence. */
export const TOKEN_METRICS: readonly HeadMetric[] = ['duplicate_token', 'induction'];

export function isHeadMetric(name: unknown): name is HeadMetric {
  return typeof name === 'string' && (HEAD_METRICS as readonly string[]).includes(name);
}

/** Column headings and what each metric measures, in the user's words. */
export const HEAD_METRIC_INFO: Record<HeadMetric, { label: string; title: string }> = {
  entropy: { label: 'entropy', title: 'Mean row entropy in nats: high = diffuse, low = sharp' },
  max: { label: 'max', title: 'Mean of each row’s largest weight: how peaked the head is' },
  bos: { label: 'first token', title: 'Mean weight on the first token (the usual attention sink)' },
  self: { label: 'self', title: 'Mean weight of each token on itself' },
  previous_token: { label: 'previous', title: 'Share of all weight on the previous token (TransformerLens previous-token score)' },
  duplicate_token: { label: 'duplicate', title: 'Share of all weight on earlier copies of the same token (TransformerLens duplicate-token score)' },
  induction: { label: 'induction', title: 'Share of all weight on the token after an earlier copy of the current one (TransformerLens induction score)' },
};

/** Every head's metrics, each a [layers · heads] row-major array; the token metrics only with tokens. */
export interface WireHeadTable {
  layers: number;
  heads: number;
  n: number;
  metrics: { [K in HeadMetric]?: Float32Array };
  /** Where the tokens came from ("tokens member", a file name), or why there are none. */
  tokens: { from: string } | { missing: string };
}

export interface NearHead {
  layer: number;
  head: number;
  /** Base-2 Jensen–Shannon distance averaged over query rows, in [0, 1]. */
  distance: number;
}
