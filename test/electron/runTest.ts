// `npm run test:electron`: for machines that can download VS Code. @vscode/test-electron fetches a VS Code build
// (VSCODE_VERSION, default stable), starts it with this folder as the extension under development and runs
// out/test/electron/suite in its extension host. (Offline machines use `npm run test:e2e` instead: code-server.)
import * as path from 'path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  // Compiled to out/test/electron/runTest.js: the repository root is three levels up.
  const extensionDevelopmentPath = path.resolve(__dirname, '..', '..', '..');
  const extensionTestsPath = path.resolve(__dirname, 'suite', 'index');
  const samples = path.join(extensionDevelopmentPath, 'samples');
  await runTests({
    version: process.env.VSCODE_VERSION ?? 'stable',
    extensionDevelopmentPath,
    extensionTestsPath,
    // Only this extension, no trust prompt, a throwaway profile so a developer's settings do not leak in.
    launchArgs: [samples, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  });
}

main().catch((err: unknown) => {
  console.error('test:electron failed:', err instanceof Error ? err.message : err);
  console.error('(It downloads VS Code; without internet access use "npm run test:e2e", which runs code-server offline.)');
  process.exit(1);
});
