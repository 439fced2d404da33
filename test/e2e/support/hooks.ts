// Mocha root hooks: one code-server and one browser for the whole run (starting them is the slow part);
// each failing test leaves a screenshot, and a failing run keeps its temporary workspace and the logs.
import type { Context } from 'mocha';
import { Workbench } from './workbench';

let current: Workbench | undefined;
let failures = 0;

/** The running workbench; journeys call this in their tests. */
export function workbench(): Workbench {
  if (!current) throw new Error('e2e: the workbench did not start (see the root before-all hook error)');
  return current;
}

export const mochaHooks = {
  async beforeAll(this: Context): Promise<void> {
    this.timeout(240_000);
    const started = Date.now();
    current = await Workbench.start();
    console.log(`    workbench ready in ${Date.now() - started} ms at ${current.url} (workspace ${current.workspace})`);
  },
  async afterEach(this: Context): Promise<void> {
    const test = this.currentTest;
    if (!current || !test || test.state !== 'failed') return;
    failures++;
    await current.screenshot(`FAILED ${test.fullTitle()}`).catch(() => undefined);
    // What the UI showed at the failure, next to mocha's message: the most useful line for whoever fixes it.
    console.log(`      at the failure the UI shows: ${await current.describeUi()}`);
    // Leave the workbench usable for the next journey.
    await current.page.keyboard.press('Escape').catch(() => undefined);
  },
  async afterAll(this: Context): Promise<void> {
    this.timeout(30_000);
    if (!current) return;
    await current.stop(failures > 0);
    if (failures > 0) console.log(`    kept ${current.tmp} and test-results/e2e/ (logs, screenshots) for the ${failures} failure(s)`);
    current = undefined;
  },
};
