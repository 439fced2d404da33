// Webview timings for `npm run bench`: the real webview bundle in headless Chromium (the harness page, whose stub
// host runs the real ModelServer in the page). Measures data received → first frame of a 4096×4096 map (WebGL2 and
// 2D), and hover → tooltip on the colours sample (exact, local) and on the pooled 4096² map (asks the host).
// Prints one JSON array of { name, ms, note } rows (medians of several runs) on stdout.
import { harnessUrl, launchHarness } from '../test/fixtures/webview-harness/launch.mjs';

const RUNS = Number(process.env.BENCH_WEBVIEW_RUNS ?? 5);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const browser = await launchHarness();
const rows = [];
try {
  async function open(scenario, force2d) {
    const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    await page.goto(harnessUrl(scenario, { n: 4096, force2d }));
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
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(rows) + '\n');
