// Shared by the end-to-end tests and the browser bench: a static file server for www/ on a free
// loopback port (counting requests per path), and headless Chromium through playwright-core.
import { createServer } from 'node:http';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WWW = join(ROOT, 'www');

// playwright-core is installed in www/node_modules (tools/setup.sh: npm install in www/).
const require = createRequire(join(WWW, 'package.json'));
export const { chromium } = require('playwright-core');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.safetensors': 'application/octet-stream',
};

/**
 * Serves `dir` on 127.0.0.1 at a free port, under `prefix` (a sub-path, as many static hosts
 * put a site). `requests` counts GETs per path (without the query). `routes` maps a path to a
 * `(req, res)` handler that answers it instead of a file (the hostile-server tests).
 */
export async function serve(dir = WWW, prefix = '/', routes = {}) {
  const requests = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (Object.hasOwn(routes, path)) {
      routes[path](req, res);
      return;
    }
    const inside = path.startsWith(prefix) ? `/${path.slice(prefix.length)}` : null;
    const file = inside === null ? dir : normalize(join(dir, inside.endsWith('/') ? `${inside}index.html` : inside));
    let stat;
    try {
      stat = file.startsWith(dir + sep) || file === dir ? statSync(file) : null;
    } catch {
      stat = null;
    }
    if (!stat?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': 'no-cache',
    });
    createReadStream(file).pipe(res);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${server.address().port}${prefix}`;
  // closeAllConnections: a hostile route may hold a connection open; do not wait for it.
  return { base, requests, close: () => new Promise((ok) => (server.close(ok), server.closeAllConnections())) };
}

/** Headless Chromium (Debian's) with a fresh profile; `webgpu: false` leaves WebGPU off. */
export async function launch({ webgpu = true } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'webgan-chromium-'));
  const args = [
    '--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic',
  ];
  // Compute alone needs only --enable-unsafe-webgpu; presenting a WebGPU canvas headless needs
  // Chromium's compositor on Vulkan (SwiftShader), else the GPU process finds no shared-image
  // backing for the canvas swap chain and the device is lost at the first frame.
  if (webgpu) args.push('--enable-unsafe-webgpu', '--use-angle=vulkan', '--use-vulkan=swiftshader', '--enable-features=Vulkan');
  if (process.env.WEBGAN_CHROMIUM_ARGS) args.push(...process.env.WEBGAN_CHROMIUM_ARGS.split(' '));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args,
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    acceptDownloads: true,
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/**
 * Runs one suite file on its own (started directly with node rather than from run.mjs): a
 * browser, `suite({ test, context })` with the same ok/FAIL lines as run.mjs, a
 * `NAME: N passed, N failed` line, and the exit status.
 */
export async function runAlone(name, suite, { webgpu }) {
  const browser = await launch({ webgpu });
  let failed = 0;
  let passed = 0;
  const test = async (title, fn) => {
    const t0 = Date.now();
    try {
      await fn();
      passed += 1;
      console.log(`ok   ${title} (${((Date.now() - t0) / 1e3).toFixed(1)} s)`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${title}: ${e.stack ?? e}`);
    }
  };
  try {
    await suite({ test, context: browser.context });
  } finally {
    await browser.close();
  }
  console.log(`${name}: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
