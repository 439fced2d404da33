// Journey 1x: a 32,768-token head from the palette. Q, K, V .npy files (32768 × 64, float32) are written into the
// workspace at test time from a fixed seed; "Compute Attention from Q, K, V…" (dot, 1/√d, causal) is above
// attentionInspector.maxCells, so the extension streams it from Q and K instead of refusing: the overview draws,
// zooming reaches single cells, hovering the diagonal shows the exact weight, score and rank the core reference
// computes for that one row, and clicking pins the row (its top keys and output).
import * as assert from 'assert';
import * as path from 'path';
import { workbench } from '../support/hooks';
import { bodyData, step, visibleText, waitFor } from '../support/workbench';
import { canvasBox, cellOf, tooltipAt, zoomIn } from '../support/heatmap';
import { hashValue, writeFloat32Npy } from '../support/files';
import { StreamDetail } from '../../../src/core/stream/detail';
import { formatNumber, formatWeight } from '../../../src/shared/format';
import { writeNpy } from '../../../src/core/npyWrite';

const J = 'journey 1x (long context, 32k tokens)';
const N = 32768;
const D = 64;

// K = 4·Q: every query's own key scores far above the rest (3·‖q‖²/8 ≈ 10 against ≈ N(0, 1)), so the causal
// diagonal holds weights of tens of percent: a value worth checking to three decimals.
const q = (i: number, t: number) => hashValue(1, i * D + t);
const k = (i: number, t: number) => Math.fround(4 * q(i, t));
const v = (i: number, t: number) => hashValue(3, i * D + t);

describe('journey 1x: a 32k-token head streamed from Q and K', () => {
  before(async () => workbench().reset());

  it('computes from the palette, draws the overview, hovers an exact cell, zooms and pins a row', async function () {
    this.timeout(600_000);
    const wb = workbench();
    const page = wb.page;
    const wrote = Date.now();
    for (const [name, f] of [['ctx32k_q', q], ['ctx32k_k', k], ['ctx32k_v', v]] as const) writeFloat32Npy(path.join(wb.workspace, `${name}.npy`), N, D, f);
    console.log(`      wrote ctx32k_{q,k,v}.npy (8 MiB each) in ${Date.now() - wrote} ms`);

    // Run alone, this journey can start before the extension's commands are registered on a loaded machine: retry.
    await step(J, 'run "Attention: Compute Attention from Q, K, V…"', async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await wb.runCommand('Attention: Compute Attention from Q, K, V…');
        } catch (err) {
          if (attempt >= 6) throw err;
          await page.keyboard.press('Escape');
        }
      }
    });
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('.quick-input-box input');
    const answers: [RegExp, string][] = [
      [/\bQ\b|quer/i, 'ctx32k_q'], [/\bK\b|key/i, 'ctx32k_k'], [/\bV\b|value/i, 'ctx32k_v'],
      [/similarity/i, 'dot'], [/scale/i, 'sqrt'], [/mask/i, 'causal'], [/heads/i, '1'],
    ];
    const asked: string[] = [];
    for (const [question, answer] of answers) {
      const prompt = await step(J, `answer "${answer}"`, () => waitFor(`the question matching ${question}`, async () => {
        if (!(await widget.isVisible())) return undefined;
        const text = [await widget.locator('.quick-input-title').innerText().catch(() => ''), (await input.getAttribute('placeholder')) ?? '',
          await widget.locator('.quick-input-message').innerText().catch(() => '')].join(' ');
        return question.test(text) && !(await input.inputValue()).startsWith('>') ? text : undefined;
      }, 30_000, 200));
      asked.push(prompt.trim());
      await input.fill(answer);
      if (!/heads/i.test(prompt)) {
        await waitFor(`"${answer}" to be the focused item`, async () => {
          const label = (await widget.locator('.quick-input-list .monaco-list-row.focused').first().getAttribute('aria-label', { timeout: 500 })) ?? '';
          return label.startsWith(answer) ? true : undefined;
        }, 10_000);
      }
      await page.keyboard.press('Enter');
      await waitFor('the question to move on', async () => {
        const now = (await widget.isVisible()) ? await widget.locator('.quick-input-title').innerText().catch(() => '') : '';
        return !now || !question.test(now) || /heads/i.test(prompt) ? true : undefined;
      }, 10_000).catch(() => undefined);
    }
    console.log(`      questions: ${JSON.stringify(asked)}`);

    const started = Date.now();
    const frame = await step(J, 'the streamed 32768×32768 overview draws', () =>
      wb.heatmap('the streamed head', async (f) => (await bodyData(f, 'rows')) === String(N) && (await bodyData(f, 'cols')) === String(N), 480_000));
    console.log(`      overview ready ${Date.now() - started} ms after the last answer`);
    const note = await visibleText(frame.locator('#pooling-note'));
    assert.match(note, /32768×32768 shown as 512×512, max of 64×64 blocks \(computed from Q and K, never held whole\)/);

    // Zoom on the centre (the causal diagonal runs through it) until the tooltip names one cell, not a block.
    let exact = '';
    for (let n = 0; n < 14 && !exact; n++) {
      await step(J, `zoom in (${n + 1})`, () => zoomIn(page, frame));
      await waitFor('body[data-state=ready] after zooming', async () => ((await bodyData(frame, 'state')) === 'ready' ? true : undefined), 60_000);
      const box = await canvasBox(frame);
      const text = await tooltipAt(page, frame, { x: box.x + box.width / 2, y: box.y + box.height / 2 }, 3000);
      if (cellOf(text) && !/block/i.test(text) && /weight/.test(text)) exact = text;
    }
    assert.ok(exact, `zooming in never showed a single cell; zoom ${await bodyData(frame, 'zoom')}`);
    console.log(`      single cells at zoom ${await bodyData(frame, 'zoom')}: ${JSON.stringify(exact)}`);

    // Find the diagonal cell of the row under the centre: columns per pixel from two hovers, then step onto it.
    const box = await canvasBox(frame);
    const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const [i, j0] = cellOf(exact) as [number, number];
    // The centre is on the diagonal when zoomed about it; otherwise step across, waiting at each pixel for the tooltip
    // to name that pixel's cell (the last tooltip stays up until the new one arrives).
    let hit: { text: string; x: number } | undefined = i === j0 ? { text: exact, x: centre.x } : undefined;
    let last = exact;
    for (let x = centre.x - 40; x <= centre.x + 40 && !hit; x += 1) {
      await page.mouse.move(x, centre.y);
      const text = await waitFor('the tooltip to follow the mouse', async () => {
        const t = await visibleText(frame.locator('#tooltip'));
        return t && t !== last ? t : undefined;
      }, 800, 25).catch(() => last);
      last = text;
      const c = cellOf(text);
      if (c && c[0] === i && c[1] === i && /weight/.test(text)) hit = { text, x };
    }
    assert.ok(hit, `no pixel within 40 px of the centre showed query ${i} · key ${i}`);

    // The core reference computes that one row exactly (float64, as computeAttention does).
    const f32 = (f: (i: number, t: number) => number, rows: number) => Float32Array.from({ length: rows * D }, (_, e) => f(Math.floor(e / D), e % D));
    const detail = new StreamDetail({ q: f32(q, N), k: f32(k, N), v: f32(v, N), nq: N, nk: N, dk: D, dv: D },
      { similarity: 'dot', scaleFactor: 1 / Math.sqrt(D), mask: { kind: 'causal', offset: 0 } }, { max: new Float64Array(0), sum: new Float64Array(0) });
    const want = await detail.cell(i, i);
    console.log(`      hovered ${JSON.stringify(hit.text)}; the reference says weight ${want.weight}, score ${want.score}, rank ${want.rank}`);
    assert.ok(want.weight > 0.05, `the diagonal weight ${want.weight} should be large`);
    assert.ok(hit.text.includes(`weight ${formatWeight(want.weight)}`), `tooltip ${JSON.stringify(hit.text)} should say weight ${formatWeight(want.weight)}`);
    assert.ok(hit.text.includes(`score ${formatNumber(want.score)}`), `tooltip should say score ${formatNumber(want.score)}`);
    assert.ok(hit.text.includes(`rank ${want.rank} of ${N}`), `tooltip should say rank ${want.rank} of ${N}`);

    // Click pins the row: its top keys and output, computed on demand.
    await step(J, `click to pin query ${i}`, () => page.mouse.click(hit.x, centre.y));
    const pinned = await step(J, 'the pinned row shows', () => waitFor('#detail for the row', async () => {
      const text = await visibleText(frame.locator('#detail'));
      return text.includes(`query ${i}`) && /top 48 of 32768 keys/.test(text) ? text : undefined;
    }, 30_000, 200));
    const row = await detail.row(i);
    const first = formatNumber((row.output as number[])[0]);
    assert.ok(pinned.includes(`dim 0 ${first}`), `the pinned row's output line should start with dim 0 ${first}: ${pinned.slice(0, 400)}`);
    await wb.screenshot('1x-long-context');
  });

  // Per-head Q/K [4, 8192, 32] (4 · 8192² weights, above maxCells): a heads grid streamed head by head, and beside it
  // the head table, measured in the same sweeps. Head h's queries copy a chosen key: 0 random (diffuse), 1 the
  // previous token's, 2 its own, 3 the first token's, so each kind tops its column.
  it('per-head Q/K too big to hold: a streamed heads grid with its head table, sorted by previous_token', async function () {
    this.timeout(600_000);
    const wb = workbench();
    const page = wb.page;
    await wb.reset();
    const H = 4;
    const T = 8192;
    const W = 32;
    const kd = Float32Array.from({ length: H * T * W }, (_, e) => hashValue(7, e));
    const qd = new Float32Array(H * T * W);
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        const target = h === 1 ? Math.max(0, i - 1) : h === 2 ? i : h === 3 ? 0 : -1;
        for (let t = 0; t < W; t++) {
          const o = (h * T + i) * W + t;
          qd[o] = target < 0 ? hashValue(8, o) : 12 * kd[(h * T + target) * W + t];
        }
      }
    }
    await writeNpy(path.join(wb.workspace, 'heads8k_q.npy'), { shape: [H, T, W], dtype: 'float32', data: qd });
    await writeNpy(path.join(wb.workspace, 'heads8k_k.npy'), { shape: [H, T, W], dtype: 'float32', data: kd });
    await step(J, 'run "Attention: Compute Attention from Q, K, V…"', () => wb.runCommand('Attention: Compute Attention from Q, K, V…'));
    const widget = page.locator('.quick-input-widget');
    const input = widget.locator('.quick-input-box input');
    // Q and K by name, V "Same as K" (the weights are what the table measures); every other question keeps its default.
    for (let n = 0; n < 8; n++) {
      const next = await waitFor('the next quick pick or the heads grid', async () => {
        for (const f of await wb.webviewFrames('#heatmap')) {
          if ((await f.locator('#grid .grid-cell').count()) === H) return 'done' as const;
        }
        if (!(await widget.isVisible()) || (await input.inputValue()).startsWith('>')) return undefined;
        const prompt = `${await widget.locator('.quick-input-title').innerText().catch(() => '')} ${(await input.getAttribute('placeholder')) ?? ''}`;
        const items = await widget.locator('.quick-input-list .monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
        return items.length > 0 ? { prompt, items } : undefined;
      }, 120_000, 200);
      if (next === 'done') break;
      const name = /\bQ:/.test(next.prompt) ? 'heads8k_q.npy' : /\bK:/.test(next.prompt) ? 'heads8k_k.npy' : /\bV:/.test(next.prompt) ? 'Same as K' : undefined;
      if (name) {
        await input.fill(name);
        await waitFor(`"${name}" to be the focused item`, async () => {
          const label = (await widget.locator('.quick-input-list .monaco-list-row.focused').first().getAttribute('aria-label', { timeout: 500 })) ?? '';
          return label.includes(name) ? true : undefined;
        }, 5_000);
      }
      await page.keyboard.press('Enter');
      await waitFor('the quick pick to move on', async () => {
        if (!(await widget.isVisible())) return true;
        const prompt = `${await widget.locator('.quick-input-title').innerText().catch(() => '')} ${(await input.getAttribute('placeholder')) ?? ''}`;
        return prompt !== next.prompt ? true : undefined;
      }, 10_000).catch(() => undefined);
    }
    const frame = await step(J, 'the streamed heads grid shows 4 heads of 8192 tokens', () =>
      wb.heatmap('the streamed heads grid', async (f) => (await bodyData(f, 'rows')) === String(T) && (await f.locator('#grid .grid-cell').count()) === H, 300_000));
    await step(J, 'the head table lists the 4 heads, without token metrics (Q and K hold none)', () =>
      waitFor('#head-table rows', async () => ((await frame.locator('#head-table tbody tr').count()) === H
        && (await frame.locator('#head-table th[data-metric="previous_token"]').count()) === 1
        && (await frame.locator('#head-table th[data-metric="induction"]').count()) === 0 ? true : undefined), 300_000));
    assert.match(await visibleText(frame.locator('#head-tokens-note')), /Q and K hold no tokens/);
    for (const [metric, head] of [['previous_token', 1], ['self', 2], ['bos', 3]] as const) {
      await step(J, `sort by ${metric}`, () => frame.locator(`#head-table th[data-metric="${metric}"] button`).click());
      await step(J, `head ${head} tops ${metric}`, () => waitFor(`head ${head} first by ${metric}`, async () => {
        if ((await frame.locator(`#head-table th[data-metric="${metric}"]`).getAttribute('aria-sort')) !== 'descending') return undefined;
        return (await frame.locator('#head-table tbody tr').first().getAttribute('data-head')) === String(head) ? true : undefined;
      }, 10_000));
    }
    const top = Number(await frame.locator('#head-table tbody tr[data-head="3"] td[data-metric="bos"]').textContent());
    assert.ok(top > 0.5, `the first-token head's bos is ${top}`);
    await step(J, 'click the top row: head 3 opens', () => frame.locator('#head-table tbody tr').first().click());
    await step(J, 'the panel shows head 3', () => waitFor('subtitle "head 3"', async () =>
      ((await visibleText(frame.locator('#subtitle'))).includes('head 3') && (await bodyData(frame, 'state')) === 'ready' ? true : undefined), 120_000));
    await wb.screenshot('1x-long-context-heads');
  });
});
