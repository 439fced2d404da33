export async function runInspect(_args: string[]): Promise<number> {
  process.stderr.write('error: inspect is not available yet in this build\n');
  return 1;
}
