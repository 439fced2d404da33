// `npm run demo` starts: scripts/demo.js --check runs code-server with the .vsix on samples/ and exits 0 once
// the printed URL answers HTTP 200.
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as path from 'path';
import { freePort, repoRoot } from '../support/workbench';

describe('npm run demo', () => {
  it('starts code-server on samples/ and answers HTTP 200 (--check)', async () => {
    const port = await freePort();
    const started = Date.now();
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [path.join(repoRoot, 'scripts', 'demo.js'), '--check'],
        { cwd: repoRoot, env: { ...process.env, PORT: String(port) }, timeout: 120_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`demo --check failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout)));
    });
    assert.ok(out.includes(`http://127.0.0.1:${port}/?folder=`), `demo should print its URL:\n${out}`);
    console.log(`      demo --check answered in ${Date.now() - started} ms`);
  });
});
