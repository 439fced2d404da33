/**
 * attention-inspector: the CLI over the same core as the extension, for scripts and tests.
 * Every failure is one `error:` line on stderr and a non-zero exit; never a stack trace.
 */
import { exitAfterOutput, reportError } from './cli/report';

export const USAGE = `Usage: attention-inspector <command> [options]

Commands:
  inspect FILE[#member] [--index I,J,...] [--data] [--json]
      Shape, dtype and statistics of a .npy, .npz member, safetensors tensor or JSON matrix
      (a .npz or .safetensors without #member lists its arrays).
  compute --q FILE[#m] [--k FILE[#m]] [--v FILE[#m]]
      [--similarity dot|cosine|laplacian|euclidean] [--scale sqrt|dk|none|NUMBER]
      [--mask none|causal|FILE[#m]] [--heads H --wq F --wk F --wv F [--wo F]]
      [--batch B] [--rows LIST | --no-weights] [--max-cells N] [--json] [--out DIR]
      [--kernel auto|native|wasm]
      Attention weights softmax(sim(Q, K) * scale) and output weights * V.
      Per-head Q [H,n_q,d], K and V [H_kv,n_k,d] (H_kv dividing H: grouped-query
      attention) give weights [H,n_q,n_k] and output [H,n_q,d_v]; --batch picks
      the entry of [B,H,n,d] inputs.
      --kernel: native (C, AVX-512/AVX2) when built, else WASM (auto, the default).
      Long contexts: --rows 0,17,4095 computes only those query rows, --no-weights
      the output of every row; neither holds the n_q x n_k weights. Without them,
      more than --max-cells (default 67108864) weight cells is refused.
  heads FILE[#member] [--tokens FILE[#member]] [--json] [--sort METRIC]
      Per-head metrics of [L, H, n, n] / [H, n, n] attention maps: entropy, max, bos, self, previous_token,
      and with tokens duplicate_token and induction; a table sorted by METRIC (default entropy), highest first.

Options:
  -h, --help     this text
  --version      the version
`;

type Command = (args: string[]) => Promise<number>;

async function loadCommand(name: string): Promise<Command | undefined> {
  switch (name) {
    case 'inspect':
      return (await import('./cli/inspect')).runInspect;
    case 'compute':
      return (await import('./cli/compute')).runCompute;
    case 'heads':
      return (await import('./cli/heads')).runHeads;
    default:
      return undefined;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write('attention-inspector 0.1.0\n');
    return 0;
  }
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`error: unknown command "${name}" (try --help)\n`);
    return 2;
  }
  return command(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => exitAfterOutput(code),
    (err) => exitAfterOutput(reportError(err)),
  );
}
