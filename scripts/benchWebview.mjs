// Webview timings for `npm run bench`: the real webview bundle in headless Chromium (the harness page, whose stub
// host runs the real ModelServer in the page). Measures data received → first frame of a 4096×4096 map (WebGL2 and
// 2D), hover → tooltip on the colours sample (exact, local) and on the pooled 4096² map (asks the host), and the
// token view: hovering a token → the other tokens tinted by its row, asked of the host, in a 4096-token map and in a
// 32,768-query × 64-key map (two texts), where the laid-out text is also timed.
// Prints one JSON array of { name, ms, note } rows (medians of several runs) on stdout.
import { harnessUrl, launchHarness } from '../test/fixtures/webview-harness/launch.mjs';

const RUNS = Number(process.env.BENCH_WEBVIEW_RUNS ?? 5);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const browser = await launchHarness();
const rows = [];
try {
  async function open(scenario, force2d, { n = 4096, nk } = {}) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    const url = harnessUrl(scenario, { n, force2d });
    await page.goto(nk ? url.replace('#', `&nk=${nk}#`) : url);
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    return page;
  }
  async function hoverTimes(page, count) {
    const box = await page.locator('#heatmap').boundingBox();
    const times = [];
    for (let i = 0; i < count; i++) {
      await page.evaluate(() => { delete document.body.dataset.hoverMs; });
      await page.mouse.move(box.x + box.width * (0.1 + 0.8 * ((i * 7) % count) / count), box.y + box.height * (0.2 + 0.6 * (i % 3) / 3));
      await page.waitForFunction(() => document.body.dataset.hoverMs !== undefined, null, { timeout: 10_000 });
      times.push(Number(await page.evaluate(() => document.body.dataset.hoverMs)));
    }
    return times;
  }
  /** Hover `count` different tokens of the token view; each hover asks the host for a row (or column) not cached. */
  async function tokenHoverTimes(page, side, count) {
    const ids = await page.evaluate((s) => [...document.querySelectorAll(`#tokens .tok[id^="token-${s}-"]`)].map((e) => e.id), side);
    const times = [];
    for (let i = 0; i < count && i < ids.length; i++) {
      await page.evaluate(() => { delete document.body.dataset.tokenHoverMs; });
      await page.hover(`#${ids[(i * 5) % ids.length]}`);
      await page.waitForFunction(() => document.body.dataset.tokenHoverMs !== undefined, null, { timeout: 10_000 });
      times.push(Number(await page.evaluate(() => document.body.dataset.tokenHoverMs)));
    }
    return times;
  }
  for (const force2d of [false, true]) {
    const frames = [];
    let renderer = '';
    for (let r = 0; r < RUNS; r++) {
      const page = await open('big', force2d);
      frames.push(Number(await page.evaluate(() => document.body.dataset.firstFrameMs)));
      renderer = await page.evaluate(() => document.body.dataset.renderer);
      await page.close();
    }
    rows.push({ name: `webview first frame 4096×4096 (${renderer})`, ms: median(frames),
      note: `data received → first frame, median of ${RUNS}; runs ${frames.map((x) => x.toFixed(0)).join(', ')} ms` });
  }
  const colours = await open('colours', false);
  const local = await hoverTimes(colours, 15);
  rows.push({ name: 'webview hover → tooltip (colours, exact in the page)', ms: median(local), note: `median of ${local.length}, max ${Math.max(...local).toFixed(1)} ms` });
  await colours.close();
  const big = await open('big', false);
  const pooled = await hoverTimes(big, 15);
  rows.push({ name: 'webview hover → tooltip (4096², exact value from the host)', ms: median(pooled), note: `median of ${pooled.length}, max ${Math.max(...pooled).toFixed(1)} ms` });
  await big.close();
  const tokens = await open('tokens', false);
  const th = await tokenHoverTimes(tokens, 'q', 15);
  rows.push({ name: 'webview token hover → text tinted (4096 tokens, row from the host)', ms: median(th), note: `median of ${th.length}, max ${Math.max(...th).toFixed(1)} ms` });
  await tokens.close();
  const long = await open('tokens', false, { n: 32768, nk: 64 });
  const layoutMs = Number(await long.evaluate(() => document.body.dataset.tokenLayoutMs));
  const lq = await tokenHoverTimes(long, 'q', 15);
  const lk = await tokenHoverTimes(long, 'k', 15);
  rows.push({ name: 'webview token text laid out (32,768 query + 64 key tokens)', ms: layoutMs, note: 'measure every token, break into lines, render the visible lines' });
  rows.push({ name: 'webview token hover → text tinted (32,768 × 64, query row / key column)', ms: median(lq),
    note: `query rows median of ${lq.length} (max ${Math.max(...lq).toFixed(1)} ms); key columns over 32,768 queries median ${median(lk).toFixed(1)} ms (max ${Math.max(...lk).toFixed(1)} ms)` });
  await long.close();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(rows) + '\n');
