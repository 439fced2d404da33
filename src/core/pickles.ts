/**
 * PyTorch checkpoints (.pt, .pth, .bin, .ckpt, and torch.save's zip archives with a data.pkl inside) are Python
 * pickles: loading one runs whatever code it names. They are never unpickled here; the refusal says how to save
 * the same tensor in a format that is plain data.
 */
import * as path from 'path';
import { MatrixError } from './ndarray';

export const PICKLE_EXTENSIONS: readonly string[] = ['.pt', '.pth', '.bin', '.ckpt'];

const GUIDANCE =
  'save the tensor as safetensors or .npy instead, e.g. safetensors.torch.save_file({"attentions": t.contiguous()}, "run.safetensors") '
  + 'or np.save("attentions.npy", t.float().cpu().numpy())';

/** The one message for every pickle: what it is, that it is not loaded, and what to do instead. */
export function pickleRefusal(file: string, why: string): MatrixError {
  return new MatrixError(`${why}: a Python pickle, which is never loaded (unpickling runs code from the file); ${GUIDANCE}`, file);
}

export function hasPickleExtension(file: string): boolean {
  return PICKLE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

/** A raw pickle stream starts with the PROTO opcode (0x80) and a protocol number 2-5 (torch.save's legacy format). */
export function looksLikePickle(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5;
}

/** torch.save's zip archive: "archive/data.pkl" (or "data.pkl") beside the tensor storages. */
export function zipPickleEntry(names: readonly string[]): string | undefined {
  return names.find((n) => /(^|\/)data\.pkl$/.test(n));
}
