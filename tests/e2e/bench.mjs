// The browser benchmark, headless: opens www/bench.html in Chromium with WebGPU (SwiftShader
// here) and prints its table; the JSON goes to build/e2e/bench.json. Run after `make build`:
// node tests/e2e/bench.mjs [query], e.g. "batch=1,8&cpu=1" for a shorter run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, launch, serve } from './harness.mjs';

const query = process.argv[2] ?? '';
const server = await serve();
const browser = await launch({ webgpu: true });
let failed = false;
try {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => console.error(`pageerror: ${e.message}`));
  await page.goto(`${server.base}bench.html${query ? `?${query}` : ''}`);
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: 3_600_000, polling: 500 });
  const result = await page.evaluate(() => window.benchResult);
  if (result.error) throw new Error(result.error);
  mkdirSync(join(ROOT, 'build', 'e2e'), { recursive: true });
  writeFileSync(join(ROOT, 'build', 'e2e', 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  await page.screenshot({ path: join(ROOT, 'build', 'e2e', 'bench.png'), fullPage: true });
  console.log(`model ${result.model} (${(result.flopsPerImage / 1e9).toFixed(3)} GFLOP per image)`);
  console.log(`webgpu: ${result.webgpu}`);
  console.log(`cpu: ${result.cpu}`);
  const head = ['backend', 'batch', 'first ms', 'warm ms', 'images/s', 'GFLOP/s', 'runs'];
  console.log(head.map((h) => h.padStart(10)).join(' '));
  for (const r of result.rows) {
    const cells = [r.backend, r.batch, r.firstMs.toFixed(1), r.warmMs.toFixed(1), r.imagesPerS.toFixed(1), r.gflops.toFixed(2), r.runs];
    console.log(cells.map((c) => String(c).padStart(10)).join(' '));
  }
} catch (e) {
  console.error(`bench failed: ${e.message}`);
  failed = true;
} finally {
  await browser.close();
  await server.close();
}
process.exit(failed ? 1 : 0);
