// A real VS Code (code-server, installed offline by scripts/setup-vscode.sh) driven by Playwright through
// Debian's Chromium. One instance per test run: fresh user-data and extensions dirs, the freshly packaged
// .vsix installed the way a user installs it, and a temporary workspace copied from samples/ and the e2e fixtures.
import { spawn, execFile } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { chromium } from 'playwright-core';
import type { Browser, ConsoleMessage, Frame, Locator, Page } from 'playwright-core';

export const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
// E2E_RESULTS_DIR separates the screenshots and logs of runs made at the same time in one working tree.
export const resultsDir = process.env.E2E_RESULTS_DIR ? path.resolve(process.env.E2E_RESULTS_DIR) : path.join(repoRoot, 'test-results', 'e2e');

interface ToolPaths { node: string; codeServer: string; chromium: string }

/** User settings that keep the workbench quiet and deterministic: no welcome page, no trust prompt, no network. */
const userSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.editor.enablePreview': false,
  'workbench.editor.enablePreviewFromQuickOpen': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'npm.autoDetect': 'off',
  'json.schemaDownload.enable': false,
  'files.autoSave': 'off',
  'files.simpleDialog.enable': true,
  'window.commandCenter': false,
  // Typed text must arrive as typed: no auto-closing, no suggestions swallowing Enter.
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoSurround': 'never',
  'editor.autoIndent': 'none',
  'editor.formatOnType': false,
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.suggestOnTriggerCharacters': false,
  'editor.acceptSuggestionOnEnter': 'off',
  'editor.minimap.enabled': false,
};

export interface WorkbenchOptions { vsix?: string; extraFiles?: Record<string, string> }

function readToolPaths(): ToolPaths {
  const file = path.join(repoRoot, '.vscode-test', 'offline', 'paths.json');
  if (!fs.existsSync(file)) {
    throw new Error(`e2e: ${file} is missing; run "bash scripts/setup-vscode.sh" first (it installs code-server offline).`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ToolPaths;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

function run(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: env ?? process.env, maxBuffer: 16 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

/** Polls `probe` until it returns a value that is not undefined; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err; // frames detach while webviews reload; keep polling
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message.split('\n')[0]})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Workbench {
  readonly consoleLines: string[] = [];
  private serverLog: fs.WriteStream | undefined;

  private constructor(
    readonly tmp: string,
    readonly workspace: string,
    readonly userDataDir: string,
    readonly url: string,
    readonly server: ChildProcess,
    readonly browser: Browser,
    readonly page: Page,
  ) {}

  /** Installs the .vsix, starts code-server on a free loopback port and opens the workspace in Chromium. */
  static async start(options: WorkbenchOptions = {}): Promise<Workbench> {
    const tools = readToolPaths();
    const vsix = options.vsix ?? path.join(repoRoot, 'attention-inspector.vsix');
    if (!fs.existsSync(vsix)) throw new Error(`e2e: ${vsix} is missing; run "npm run package" first.`);
    // Failure screenshots of an earlier run would mislead; the other files are overwritten by this run.
    // (The folder itself is kept: another run in the same tree may be writing to it.)
    fs.mkdirSync(resultsDir, { recursive: true });
    for (const f of fs.readdirSync(resultsDir)) if (f.startsWith('FAILED_')) fs.rmSync(path.join(resultsDir, f), { force: true });

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attention-e2e-'));
    const userDataDir = path.join(tmp, 'user-data');
    const extensionsDir = path.join(tmp, 'extensions');
    const workspace = path.join(tmp, 'workspace');
    fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
    fs.mkdirSync(extensionsDir, { recursive: true });
    fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(userSettings, null, 2));
    const config = path.join(tmp, 'code-server.yaml');
    fs.writeFileSync(config, 'auth: none\n'); // never read ~/.config/code-server (it may ask for a password)
    fs.cpSync(path.join(repoRoot, 'samples'), workspace, { recursive: true });
    const fixtures = path.join(repoRoot, 'test', 'fixtures', 'e2e');
    if (fs.existsSync(fixtures)) fs.cpSync(fixtures, path.join(workspace, 'fixtures'), { recursive: true });
    for (const [name, text] of Object.entries(options.extraFiles ?? {})) fs.writeFileSync(path.join(workspace, name), text);

    const common = ['--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
    // Install from a private copy: another `npm run package` in the same tree may rewrite the .vsix meanwhile.
    const vsixCopy = path.join(tmp, path.basename(vsix));
    fs.copyFileSync(vsix, vsixCopy);
    const installed = await run(tools.node, [tools.codeServer, ...common, '--install-extension', vsixCopy, '--force']);
    if (!/successfully installed|already installed/i.test(installed)) {
      throw new Error(`e2e: installing ${vsix} did not report success:\n${installed}`);
    }
    const listed = await run(tools.node, [tools.codeServer, ...common, '--list-extensions', '--show-versions']);
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
    const id = `${manifest.publisher}.${manifest.name}@${manifest.version}`;
    if (!listed.split(/\s+/).includes(id)) throw new Error(`e2e: ${id} is not listed after installing the .vsix:\n${listed}`);

    const port = await freePort();
    const server = spawn(tools.node, [tools.codeServer, ...common,
      '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
      '--disable-workspace-trust', '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
      '--ignore-last-opened', workspace], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    const serverLog = fs.createWriteStream(path.join(resultsDir, 'code-server.log'));
    server.stdout?.pipe(serverLog, { end: false });
    server.stderr?.pipe(serverLog, { end: false });
    let exited: string | undefined;
    server.once('exit', (code, signal) => { exited = `code-server exited (code ${code}, signal ${signal})`; });

    const url = `http://127.0.0.1:${port}/`;
    await waitFor('code-server to answer /healthz', async () => {
      if (exited) throw new Error(exited);
      return (await httpStatus(`${url}healthz`)) === 200 ? true : undefined;
    }, 60_000, 200);

    const browser = await chromium.launch({
      executablePath: tools.chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const wb = new Workbench(tmp, workspace, userDataDir, url, server, browser, page);
    wb.serverLog = serverLog;
    page.on('console', (msg: ConsoleMessage) => wb.consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    page.on('pageerror', (err) => wb.consoleLines.push(`[pageerror] ${err.message}`));

    await page.goto(`${url}?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    // The explorer shows the workspace once the remote file system and extension host are connected.
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible', timeout: 60_000 });
    return wb;
  }

  // ---- the user's actions ---------------------------------------------------------------------------------

  /**
   * Opens a quick input with `key` and types `value` into it. The quick input can close again at once when a webview
   * takes the focus back (a panel or a notebook output that has just reloaded) or never open when the key went to a
   * webview, so it is opened again a few times, each with short waits, rather than one long wait on an input that is gone.
   * `ready` says when the typed value has given the wanted first entry.
   */
  private async typeIntoQuickInput(key: string, value: string, what: string, ready: (label: string) => boolean): Promise<void> {
    const page = this.page;
    const input = page.locator('.quick-input-widget .quick-input-box input');
    const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused');
    for (let attempt = 1; ; attempt++) {
      await this.dismissQuickInput();
      await page.keyboard.press(key);
      try {
        await input.waitFor({ state: 'visible', timeout: attempt < 5 ? 4_000 : 10_000 });
        await input.fill(value, { timeout: 5_000 });
        await waitFor(what, async () => {
          const label = (await row.first().getAttribute('aria-label', { timeout: 500 })) ?? '';
          return ready(label) ? true : undefined;
        }, attempt < 5 ? 6_000 : 15_000);
        return;
      } catch (err) {
        if (attempt >= 5) throw err;
        // The key may have gone to a webview (an iframe) that holds the focus: take the focus back to the workbench.
        await page.evaluate('document.activeElement && document.activeElement.tagName === "IFRAME" && document.activeElement.blur()')
          .catch(() => undefined);
      }
    }
  }

  /** Opens the command palette (F1), types `title`, waits until the top entry is exactly that command, and runs it. */
  async runCommand(title: string): Promise<void> {
    const page = this.page;
    await this.typeIntoQuickInput('F1', `>${title}`, `command "${title}" to be the first entry in the command palette`,
      (label) => label.startsWith(title));
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.keyboard.press('Enter');
    // The palette closes, or the command replaces it with its own quick input; either way it no longer shows `>title`.
    await waitFor(`the palette to run "${title}"`, async () =>
      (await input.isVisible()) && (await input.inputValue()).startsWith('>') ? undefined : true, 10_000);
  }

  /**
   * Quick Open (Ctrl+P): types a workspace-relative path and opens the match. A file created a moment ago may not be
   * in the search results yet (the file watcher has not reported it), so Quick Open is reopened a few times.
   */
  async openFile(relative: string): Promise<void> {
    const base = path.basename(relative);
    await this.typeIntoQuickInput('Control+P', relative, `"${relative}" to appear in Quick Open`, (label) => label.includes(base));
    await this.page.keyboard.press('Enter');
    await this.activeTab(base);
  }

  /**
   * Answers VS Code's simple save dialog (a quick input holding a path) with `target`. The dialog checks the typed
   * path asynchronously and may ignore an Enter that arrives first, so Enter is repeated, then OK is clicked.
   */
  async answerSaveDialog(target: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    // The dialog fills in its default path once it has listed the folder; typing before that would be overwritten.
    await waitFor('the save dialog to show its default path', async () => ((await input.inputValue()).includes('/') ? true : undefined), 10_000);
    // It may also reset the value once more while it lists the folder; type again until the path stays put.
    let steadySince = 0;
    await waitFor('the save dialog to keep the typed path', async () => {
      if ((await input.inputValue()) !== target) {
        await input.fill(target);
        steadySince = Date.now();
        return undefined;
      }
      return Date.now() - steadySince >= 600 ? true : undefined;
    }, 10_000);
    for (let attempt = 0; attempt < 4 && (await widget.isVisible()); attempt++) {
      if (attempt < 2) await input.press('Enter');
      else await widget.locator('.monaco-button', { hasText: /^OK$/ }).first().click();
      await waitFor('the save dialog to close', async () => ((await widget.isVisible()) ? undefined : true), 3_000).catch(() => undefined);
    }
    if (await widget.isVisible()) throw new Error(`the save dialog did not accept ${target}: ${JSON.stringify(await widget.innerText())}`);
  }

  /** Waits until the active editor tab is `name`. */
  async activeTab(name: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(`the active editor tab to be "${name}"`, async () => {
      const tabs = this.page.locator('.editor-group-container.active .tab.active');
      const label = (await tabs.first().getAttribute('aria-label', { timeout: 500 })) ?? '';
      return label.includes(name) ? true : undefined;
    }, timeoutMs);
  }

  async dismissQuickInput(): Promise<void> {
    if (await this.page.locator('.quick-input-widget').isVisible()) await this.page.keyboard.press('Escape');
  }

  /** Closes every editor; unsaved changes must have been reverted by the journey that made them. */
  async closeAllEditors(): Promise<void> {
    await this.runCommand('View: Close All Editors');
    await waitFor('all editors to close', async () =>
      (await this.page.locator('.editor-group-container .tab').count()) === 0 ? true : undefined, 10_000);
  }

  /** A clean slate between journeys: no quick input, no editors, no toasts, the Explorer in the side bar. */
  async reset(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.closeAllEditors();
    if ((await this.page.locator('.notifications-toasts .notification-toast').count()) > 0) await this.clearNotifications();
    await this.runCommand('View: Show Explorer');
  }

  /** Focuses the active text editor and replaces its whole text, as a paste would (unsaved). */
  async replaceEditorText(text: string): Promise<void> {
    const editor = this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
    await editor.click();
    await this.page.keyboard.press('Control+A');
    await this.page.keyboard.insertText(text);
  }

  /** Visible text of the notification toasts. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
  }

  async waitForNotification(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    return waitFor(`a notification matching ${pattern}`, async () =>
      (await this.notifications()).find((t) => pattern.test(t)), timeoutMs);
  }

  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
  }

  /** Opens the Problems panel (Ctrl+Shift+M) and returns the text of each entry. */
  async problems(): Promise<string[]> {
    if (!(await this.page.locator('.markers-panel').isVisible())) await this.page.keyboard.press('Control+Shift+M');
    await this.page.locator('.markers-panel').waitFor({ state: 'visible', timeout: 10_000 });
    return this.page.locator('.markers-panel .monaco-list-row').evaluateAll((rows) =>
      rows.map((r) => (r.getAttribute('aria-label') ?? '') + ' ' + ((r as unknown as { innerText: string }).innerText ?? '')));
  }

  // ---- webviews -------------------------------------------------------------------------------------------

  /** Is every iframe on the way from the page to `frame` visible? Hidden webviews stay in the DOM. */
  static async frameVisible(frame: Frame): Promise<boolean> {
    for (let f: Frame | null = frame; f && f.parentFrame(); f = f.parentFrame()) {
      const element = await f.frameElement();
      if (!(await element.isVisible())) return false;
    }
    return true;
  }

  /** All visible webview frames whose document has `selector`. */
  async webviewFrames(selector: string): Promise<Frame[]> {
    const found: Frame[] = [];
    for (const frame of this.page.frames()) {
      if (frame === this.page.mainFrame() || frame.isDetached()) continue;
      try {
        if ((await frame.locator(selector).count()) > 0 && (await Workbench.frameVisible(frame))) found.push(frame);
      } catch {
        // detached mid-check
      }
    }
    return found;
  }

  /** Waits for a visible webview frame containing `selector` (and passing `where`, if given). */
  async webviewFrame(selector: string, what: string, where?: (f: Frame) => Promise<boolean>, timeoutMs = 30_000): Promise<Frame> {
    try {
      return await waitFor(`a webview with ${selector} (${what})`, async () => {
        for (const frame of await this.webviewFrames(selector)) {
          if (!where || (await where(frame))) return frame;
        }
        return undefined;
      }, timeoutMs, 200);
    } catch (err) {
      (err as Error).message += `; the UI shows instead: ${await this.describeUi()}`;
      throw err;
    }
  }

  /** What a person would see right now, for failure messages: active tab, toasts, and each visible webview's state. */
  async describeUi(): Promise<string> {
    const parts: string[] = [];
    try {
      const tabs = this.page.locator('.editor-group-container.active .tab.active');
      const tab = (await tabs.count()) > 0 ? await tabs.first().getAttribute('aria-label', { timeout: 500 }) : null;
      parts.push(`active tab ${JSON.stringify(tab)}`);
      const quickInput = this.page.locator('.quick-input-widget');
      if (await quickInput.isVisible()) parts.push(`quick input open: ${JSON.stringify((await quickInput.innerText()).slice(0, 300))}`);
      parts.push(`notifications ${JSON.stringify(await this.notifications())}`);
      const webviews: string[] = [];
      for (const frame of this.page.frames()) {
        if (frame === this.page.mainFrame() || frame.isDetached()) continue;
        if ((await frame.locator('body').count()) === 0 || (await frame.locator('iframe').count()) > 0) continue;
        if (!(await Workbench.frameVisible(frame))) continue;
        const data = await frame.locator('body').evaluate((b) => JSON.stringify((b as unknown as { dataset: Record<string, string> }).dataset));
        const error = await visibleText(frame.locator('#error'));
        const ids = await frame.locator('[id]').evaluateAll((els) => els.slice(0, 12).map((e) => e.id));
        webviews.push(`{dataset ${data}${error ? `, #error ${JSON.stringify(error)}` : ''}, ids [${ids.join(' ')}]}`);
      }
      parts.push(`visible webviews [${webviews.join(', ')}]`);
    } catch (err) {
      parts.push(`(could not read the UI: ${(err as Error).message.split('\n')[0]})`);
    }
    return parts.join('; ');
  }

  /** Waits for a heatmap webview whose body says data-state="ready" (and passes `where`). */
  async heatmap(what: string, where?: (f: Frame) => Promise<boolean>, timeoutMs = 30_000): Promise<Frame> {
    return this.webviewFrame('#heatmap', what, async (f) =>
      (await bodyData(f, 'state')) === 'ready' && (!where || (await where(f))), timeoutMs);
  }

  async screenshot(name: string): Promise<string> {
    const file = path.join(resultsDir, `${name.replace(/[^\w.-]+/g, '_').slice(0, 90)}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Writes what helps explain a failure: the browser console and the VS Code logs (exthost, renderer). */
  saveLogs(): void {
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.writeFileSync(path.join(resultsDir, 'browser-console.log'), this.consoleLines.join('\n') + '\n');
    const logs = path.join(this.userDataDir, 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(resultsDir, 'vscode-logs'), { recursive: true });
  }

  async stop(keepFiles: boolean): Promise<void> {
    this.saveLogs();
    await this.browser.close().catch(() => undefined);
    if (this.server.exitCode === null) {
      const exited = new Promise((r) => this.server.once('exit', r));
      this.server.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (this.server.exitCode === null) this.server.kill('SIGKILL');
    }
    this.serverLog?.end();
    if (!keepFiles) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** `document.body.dataset[name]` in a webview frame. */
export async function bodyData(frame: Frame, name: string): Promise<string | undefined> {
  return (await frame.locator('body').getAttribute(`data-${name}`, { timeout: 2000 })) ?? undefined;
}

/** The visible text of an element in a webview, or '' when it is hidden or absent. */
export async function visibleText(locator: Locator): Promise<string> {
  if ((await locator.count()) === 0 || !(await locator.first().isVisible())) return '';
  return (await locator.first().innerText()).trim();
}

/** Runs one named step of a journey, so a failure says which step of which journey broke. */
export async function step<T>(journey: string, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    e.message = `[${journey}] step "${name}" failed: ${e.message}`;
    throw e;
  }
}
