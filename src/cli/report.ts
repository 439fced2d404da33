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

/**
 * Exit with `code` once stdout and stderr have handed every byte to the system. process.exit drops what is
 * still queued for a pipe whose reader has not drained it yet (issue 12, bug 2: `--json | python3` got the
 * first 64–128 KiB). An empty write's callback runs after every earlier write on the same stream is done.
 * A reader that goes away early (`| head`) is not an error of ours: exit quietly with the same code.
 */
export function exitAfterOutput(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(code);
    });
    stream.write('', () => done());
  }
}
