#!/usr/bin/env node
// `npm run demo`: try the extension on samples/.
// With VS Code installed (`code` on PATH): installs attention-inspector.vsix and opens samples/ in VS Code.
// Otherwise (or with --code-server): runs code-server (installed offline by scripts/setup-vscode.sh) on
// http://127.0.0.1:8750 (or $PORT) with the .vsix installed, prints the URL and runs until Ctrl+C.
// --check (or DEMO_CHECK=1): start code-server, wait until the URL answers HTTP 200, print it and exit 0,
// so a test can prove the demo starts (if the chosen port is taken, a free one is used instead).
'use strict';
// A plain CommonJS script run by node without a build step, so require() is the way to import here.
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');

const root = path.resolve(__dirname, '..');
const vsix = path.join(root, 'attention-inspector.vsix');
const samples = path.join(root, 'samples');
const check = process.argv.includes('--check') || process.env.DEMO_CHECK === '1';
const forceCodeServer = check || process.argv.includes('--code-server');

function fail(message) {
  console.error(`demo: ${message}`);
  process.exit(1);
}

/** Is a desktop VS Code `code` command available (and not code-server pretending to be one)? */
function hasVsCode() {
  const probe = spawnSync('code', ['--version'], { encoding: 'utf8', timeout: 20000 });
  return probe.status === 0 && /^\d+\.\d+\.\d+/.test(probe.stdout || '') && !/code-server/i.test(probe.stdout || '');
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function status(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode || 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

function runVsCode() {
  console.log('demo: installing attention-inspector.vsix into VS Code');
  const install = spawnSync('code', ['--install-extension', vsix, '--force'], { stdio: 'inherit' });
  if (install.status !== 0) fail('"code --install-extension attention-inspector.vsix" failed');
  spawnSync('code', [samples], { stdio: 'inherit' });
  console.log('demo: opened samples/ in VS Code. Start with colours.attention.json and its "Show heatmap" CodeLens.');
}

async function runCodeServer() {
  const pathsFile = path.join(root, '.vscode-test', 'offline', 'paths.json');
  if (!fs.existsSync(pathsFile)) fail(`${pathsFile} is missing; run "bash scripts/setup-vscode.sh" first`);
  const tools = JSON.parse(fs.readFileSync(pathsFile, 'utf8'));
  const demoDir = path.join(root, '.vscode-test', 'demo');
  const userData = path.join(demoDir, 'user-data');
  const extensions = path.join(demoDir, 'extensions');
  const config = path.join(demoDir, 'code-server.yaml');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extensions, { recursive: true });
  fs.writeFileSync(config, 'auth: none\n'); // never read ~/.config/code-server (it may ask for a password)
  const settings = path.join(userData, 'User', 'settings.json');
  if (!fs.existsSync(settings)) {
    // A quiet first start; the user may change these afterwards (the file is kept between demo runs).
    fs.writeFileSync(settings, JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'update.mode': 'none',
    }, null, 2));
  }
  const common = ['--config', config, '--user-data-dir', userData, '--extensions-dir', extensions];
  const install = spawnSync(tools.node, [tools.codeServer, ...common, '--install-extension', vsix, '--force'], { encoding: 'utf8' });
  if (install.status !== 0) fail(`installing the .vsix into code-server failed:\n${install.stdout}${install.stderr}`);

  let port = Number(process.env.PORT) || 8750;
  if (!(await portFree(port))) {
    if (!check) fail(`port ${port} is in use; set PORT to another port`);
    port = await freePort();
  }
  const server = spawn(tools.node, [tools.codeServer, ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-workspace-trust', '--disable-telemetry', '--disable-update-check', '--ignore-last-opened', samples],
  { stdio: check ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'] });
  let output = '';
  if (check) {
    server.stdout.on('data', (d) => (output += d));
    server.stderr.on('data', (d) => (output += d));
  }
  let exited = false;
  server.on('exit', (code) => {
    exited = true;
    if (!check) process.exit(code || 0);
  });
  const stop = () => {
    if (!exited) server.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(samples)}`;
  const deadline = Date.now() + 60000;
  let code = 0;
  while ((code = await status(url)) !== 200) {
    if (exited) fail(`code-server exited before answering:\n${output}`);
    if (Date.now() > deadline) {
      stop();
      fail(`${url} did not answer HTTP 200 within 60 s (last status ${code})\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`demo: Attention Inspector on samples/ is running at\n\n    ${url}\n`);
  if (check) {
    console.log('demo: --check: the URL answers HTTP 200; stopping.');
    stop();
    await new Promise((r) => (exited ? r() : server.once('exit', r)));
    process.exit(0);
  }
  console.log('demo: open it in a browser; press Ctrl+C to stop.');
}

async function main() {
  if (!fs.existsSync(vsix)) fail(`${vsix} is missing; run "npm run package" first (npm run demo does)`);
  if (!forceCodeServer && hasVsCode()) runVsCode();
  else await runCodeServer();
}

main().catch((err) => fail(err && err.message ? err.message : String(err)));
