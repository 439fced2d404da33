// Journey 6: bad input is reported clearly and nothing breaks: a ragged JSON matrix becomes a Problems entry,
// hostile .npy files (an absurd shape, a pickled object array) get a message naming the file; then the
// extension still works (journey 1 again, this time from the palette).
import * as assert from 'assert';
import { workbench } from '../support/hooks';
import { bodyData, step, visibleText, waitFor } from '../support/workbench';
import { hoverUntil } from '../support/heatmap';
import * as fs from 'fs';
import * as path from 'path';
import { writeFloat32Npy } from '../support/files';

const J = 'journey 6 (bad files)';

/** A message about `file` a person can see: the webview's #error, or a notification. */
async function messageAbout(file: string, pattern: RegExp): Promise<string> {
  const wb = workbench();
  const seen: string[] = [];
  try {
    return await waitFor(`a message about ${file} matching ${pattern}`, async () => {
      seen.length = 0;
      for (const f of await wb.webviewFrames('#error')) {
        const t = await visibleText(f.locator('#error'));
        if (t) seen.push(`#error: ${t}`);
      }
      for (const t of await wb.notifications()) seen.push(`notification: ${t}`);
      return seen.find((t) => t.includes(file) && pattern.test(t));
    }, 20_000, 300);
  } catch (err) {
    throw new Error(`${(err as Error).message}; messages seen: ${JSON.stringify(seen)}`);
  }
}

describe('journey 6: broken and hostile files', () => {
  before(async () => workbench().reset());

  it('reports a ragged JSON matrix in the Problems panel', async () => {
    const wb = workbench();
    await step(J, 'open fixtures/ragged.attention.json', () => wb.openFile('fixtures/ragged.attention.json'));
    const problems = await step(J, 'a Problems entry about the ragged row', () =>
      waitFor('a Problems entry for ragged.attention.json', async () => {
        const rows = await wb.problems();
        return rows.some((r) => /^Error/.test(r.trim()) && /ragged|K\[1\]/i.test(r)) ? rows : undefined;
      }, 20_000, 500));
    // The short row, [0], is on line 5 of the file: the entry must point there.
    const entry = problems.find((r) => /ragged|K\[1\]/i.test(r) && /^Error/.test(r.trim()))!;
    assert.match(entry, /Ln 5\b|line 5\b/, `the ragged-row problem should point at line 5: ${entry}`);
    console.log(`      Problems: ${JSON.stringify(problems)}`);
    await wb.screenshot('06-ragged-problems');
  });

  it('squiggles a .npy a spec names that does not exist, and clears it when the file appears', async () => {
    const wb = workbench();
    await wb.reset();
    const missing = path.join(wb.workspace, 'j6-missing-q.npy');
    fs.rmSync(missing, { force: true });
    fs.writeFileSync(path.join(wb.workspace, 'j6-refs.attention.json'), '{\n  "Q": "j6-missing-q.npy"\n}\n');
    await step(J, 'open j6-refs.attention.json', () => wb.openFile('j6-refs.attention.json'));
    const entry = await step(J, 'a Problems entry: "Q: j6-missing-q.npy was not found", on line 2', () =>
      waitFor('a Problems entry about j6-missing-q.npy', async () =>
        (await wb.problems()).find((r) => /j6-missing-q\.npy" was not found/.test(r)), 20_000, 500));
    assert.match(entry, /Ln 2\b|line 2\b/, `the entry should point at the string on line 2: ${entry}`);
    await step(J, 'a script writes j6-missing-q.npy: the entry goes away', async () => {
      writeFloat32Npy(missing, 3, 2, (i, j) => i + j);
      await waitFor('the Problems entry to go', async () =>
        ((await wb.problems()).some((r) => /j6-missing-q\.npy/.test(r)) ? undefined : true), 20_000, 500);
    });
    await wb.screenshot('06-missing-ref');
  });

  const hostile: [string, string, RegExp, string][] = [
    ['a .npy whose header claims 10^18 cells', 'hostile-shape.npy', /large|size|cells|bytes|shape|exceed|too/i, '06-hostile-shape'],
    ['a pickled object (|O) .npy', 'hostile-object.npy', /object|\|O|dtype|pickle|unsupported/i, '06-hostile-object'],
  ];
  for (const [what, file, pattern, shot] of hostile) {
    it(`refuses ${what}, with a message naming the file`, async () => {
      const wb = workbench();
      await wb.reset();
      await step(J, `open fixtures/${file}`, () => wb.openFile(file));
      const message = await step(J, 'a clear message', () => messageAbout(file, pattern));
      // Named relative to the workspace, as VS Code's own messages do, not by its absolute path.
      assert.ok(message.includes(`fixtures/${file}`) && !message.includes(wb.workspace), `relative path expected: ${message}`);
      console.log(`      ${message}`);
      await wb.screenshot(shot);
    });
  }

  it('still works afterwards: colours.attention.json → Open Attention Heatmap → 15.0%', async () => {
    const wb = workbench();
    await wb.reset();
    await step(J, 'open colours.attention.json', () => wb.openFile('colours.attention.json'));
    await step(J, 'run "Attention: Open Attention Heatmap"', () => wb.runCommand('Attention: Open Attention Heatmap'));
    const frame = await step(J, 'the heatmap draws', () => wb.heatmap('colours after bad files', async (f) => (await bodyData(f, 'cols')) === '8'));
    const first = await step(J, 'hover the first key', () =>
      hoverUntil(wb.page, frame, 'the first key #fef0d9', (t) => t.includes('#fef0d9'), { row: 0, col: 0 }));
    assert.ok(first.tooltip.includes('15.0% (0.150)'), `tooltip: ${JSON.stringify(first.tooltip)}`);
    await wb.screenshot('06-still-works');
  });
});
