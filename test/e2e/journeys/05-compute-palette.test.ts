// Journey 5: "Attention: Compute Attention from Q, K, V…" from the command palette, answering its quick picks by
// typing to filter and Enter, for the members of samples/qkv-bundle.npz; the result opens as a heatmap.
import * as assert from 'assert';
import { workbench } from '../support/hooks';
import { bodyData, step, waitFor } from '../support/workbench';
import { hoverUntil } from '../support/heatmap';

const J = 'journey 5 (compute from the palette)';

interface PickState { prompt: string; items: string[]; value: string }

describe('journey 5: Compute Attention from Q, K, V… with quick picks', () => {
  before(async () => workbench().reset());

  it('picks q, k, v from qkv-bundle.npz and shows the 6×9 result', async () => {
    const wb = workbench();
    const page = wb.page;
    await step(J, 'run "Attention: Compute Attention from Q, K, V…"', () => wb.runCommand('Attention: Compute Attention from Q, K, V…'));

    const widget = page.locator('.quick-input-widget');
    const answered: string[] = [];
    const readPick = async (): Promise<PickState | undefined> => {
      if (!(await widget.isVisible())) return undefined;
      const input = widget.locator('.quick-input-box input');
      if ((await input.inputValue()).startsWith('>')) return undefined; // still the command palette itself
      const prompt = [await widget.locator('.quick-input-title').innerText().catch(() => ''),
        (await input.getAttribute('placeholder')) ?? '', await widget.locator('.quick-input-message').innerText().catch(() => '')].join(' ');
      const items = await widget.locator('.quick-input-list .monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
      return { prompt, items, value: await input.inputValue() };
    };
    // Answer each question the command asks until the heatmap shows (at most 8 questions).
    for (let n = 0; n < 8; n++) {
      const next = await waitFor('the next quick pick or the result heatmap', async () => {
        const frames = await wb.webviewFrames('#heatmap');
        for (const f of frames) if ((await bodyData(f, 'state')) === 'ready' && (await bodyData(f, 'cols')) === '9') return 'done' as const;
        const pick = await readPick();
        return pick && (pick.items.length > 0 || pick.prompt.trim()) ? pick : undefined;
      }, 20_000, 200);
      if (next === 'done') break;
      const role = /\bK\b|key/i.test(next.prompt) ? 'k' : /\bV\b|value/i.test(next.prompt) ? 'v' : /\bQ\b|quer/i.test(next.prompt) ? 'q' : '';
      const wanted = role
        ? next.items.find((i) => new RegExp(`#${role}\\b`).test(i)) ?? next.items.find((i) => /qkv-bundle\.npz/.test(i) && !/#/.test(i))
          ?? next.items.find((i) => new RegExp(`(^|[\\s/])${role}(\\b|$)`, 'i').test(i))
        : next.items.find((i) => /qkv-bundle\.npz/.test(i));
      // Type to filter by the first word of the wanted item (or accept the default), then Enter.
      if (wanted) {
        const filter = wanted.split(/[\s,]/)[0];
        await widget.locator('.quick-input-box input').fill(filter);
        await waitFor(`"${filter}" to be the focused item`, async () => {
          const label = (await widget.locator('.quick-input-list .monaco-list-row.focused').first().getAttribute('aria-label', { timeout: 500 })) ?? '';
          return label.startsWith(filter) ? true : undefined;
        }, 5_000);
      }
      answered.push(`${next.prompt.trim()} → ${wanted ?? '(default)'}`);
      await page.keyboard.press('Enter');
      await waitFor('the quick pick to move on', async () => {
        const now = await readPick();
        return !now || now.prompt !== next.prompt || now.items.join() !== next.items.join() ? true : undefined;
      }, 10_000).catch(() => undefined);
    }
    console.log(`      quick picks answered: ${JSON.stringify(answered)}`);

    const frame = await step(J, 'the result heatmap shows 6 queries × 9 keys', () =>
      wb.heatmap('computed from qkv-bundle.npz', async (f) => (await bodyData(f, 'rows')) === '6' && (await bodyData(f, 'cols')) === '9'));
    // NumPy (dot, 1/√8): row 0 weights 0.058 0.138 0.042 0.243 0.063 0.140 0.094 0.133 0.091.
    const cell = await step(J, 'hover query 0, key 3 (weight 0.243)', () =>
      hoverUntil(page, frame, 'q0 × k3', (t) => t.includes('24.3% (0.243)'), { row: 0, col: 3 }));
    assert.ok(cell.tooltip.includes('24.3%'));
    // The status bar describes the result in front, not the last matrix file opened (journey 4's 4096² .npy).
    const status = await step(J, 'the status bar says "6×9 float32, computed"', () =>
      waitFor('a status bar entry about the computed result', async () => {
        const texts = await page.locator('.statusbar-item').allInnerTexts();
        return texts.find((t) => /computed/.test(t));
      }, 10_000, 200));
    assert.match(status, /6×9 float32, computed/);
    assert.ok(!(await page.locator('.statusbar-item').allInnerTexts()).some((t) => /4096/.test(t)), 'no stale 4096×4096 entry');
    await wb.screenshot('05-compute-palette');
  });
});
