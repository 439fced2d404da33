/**
 * How the CLI reports a failure: one `error:` line on stderr and exit code 1, never a stack trace.
 * Its own module so that the commands and the entry point (src/cli.ts) both import it without a cycle.
 */
import { MatrixError } from '../core/ndarray';

export function reportError(err: unknown): number {
  const message = err instanceof MatrixError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message.split('\n')[0]}\n`);
  return 1;
}
