export async function runCompute(_args: string[]): Promise<number> {
  process.stderr.write('error: compute is not available yet in this build\n');
  return 1;
}
