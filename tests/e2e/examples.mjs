// The examples (examples/plain-html, examples/bundler) as a user gets them: copied into a scratch
// tree laid out like the repository (examples/<name>/ beside a dist/ that is this checkout's, so
// their `file:../../dist/npm/webgan-<version>.tgz` dependency is the packed tarball), installed
// with npm offline (the bundler example with `npm ci` from its package-lock.json: esbuild and
// typescript come from the npm cache, filled by tools/setup.sh), the bundler example type-checked
// (`tsc --noEmit --strict` against the shipped typings) and built with esbuild, each served with
// faces64 beside it and opened in headless Chromium: its canvas must show the images of
// `webgan generate --seed 1 --count 4 --backend cpu` (1 step on the CPU backend, 2 on WebGPU, as
// in run.mjs). Each runs in the browser it is given (run.mjs: the one without WebGPU) and again
// in a WebGPU one. Screenshots go to build/e2e/example-*.png.
// Called from run.mjs; alone (needs `make package` and the CLI): node tests/e2e/examples.mjs
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, WWW, launch, runAlone, serve } from './harness.mjs';
import { compareRgb, decodePng, downsample } from './images.mjs';

const EXAMPLES = join(ROOT, 'examples');
const MODEL = join(WWW, 'models', 'faces64');
const CLI = join(ROOT, 'target', 'release', 'webgan');
const TOLERANCE = { cpu: 1, webgpu: 2 }; // byte steps of 255; why: run.mjs's CPU_TOLERANCE, GPU_TOLERANCE

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function sh(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** The packed tarball, built by `make package` when there is none. */
function tarball(log) {
  const dir = join(ROOT, 'dist', 'npm');
  const list = () => (existsSync(dir) ? readdirSync(dir).filter((f) => /^webgan-.+\.tgz$/.test(f)) : []);
  if (list().length === 0) {
    log('     no dist/npm/webgan-*.tgz: make package');
    execFileSync('make', ['package'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const found = list();
  assert(found.length === 1, `expected one webgan-*.tgz in ${dir}, found ${found.join(', ') || 'none'}`);
  return found[0];
}

/** A copy of examples/<name> (without node_modules or build output) in the scratch tree. */
function copyExample(scratch, name, tgz) {
  const to = join(scratch, 'examples', name);
  cpSync(join(EXAMPLES, name), to, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|dist|models)$/.test(src),
  });
  const spec = JSON.parse(readFileSync(join(to, 'package.json'), 'utf8')).dependencies?.webgan;
  assert(spec === `file:../../dist/npm/${tgz}`, `examples/${name}/package.json depends on webgan "${spec}", not the packed file:../../dist/npm/${tgz}`);
  return to;
}

/** The page's canvas as displayed, scaled back to `width` × `height`; the page state and backend. */
async function openExample(context, url, { width, height }, shot, log) {
  const page = await context.newPage();
  page.on('pageerror', (e) => log(`     pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && !m.text().includes('404') && log(`     console: ${m.text().split('\n')[0]}`));
  try {
    await page.goto(url);
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 180_000 });
    const facts = await page.evaluate(() => ({
      state: document.body.dataset.state,
      backend: document.body.dataset.backend,
      status: document.getElementById('status').textContent,
    }));
    await page.screenshot({ path: shot });
    assert(facts.state === 'ready', `the example says: ${facts.status}`);
    const image = decodePng(await page.locator('canvas').screenshot());
    return { ...facts, grid: downsample(image, width, height) };
  } finally {
    await page.close();
  }
}

export async function examplesTests({ test, context, log = console.log, out = join(ROOT, 'build', 'e2e'), webgpu = true }) {
  mkdirSync(out, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'webgan-examples-'));
  const sites = {};
  try {
    let tgz = 'the packed tarball';
    let reference = null;
    await test('examples: the packed tarball and the CLI reference (seed 1, count 4, CPU)', async () => {
      tgz = tarball(log);
      symlinkSync(join(ROOT, 'dist'), join(scratch, 'dist'));
      if (!existsSync(CLI)) execFileSync('cargo', ['build', '--release', '--bin', 'webgan'], { cwd: ROOT, stdio: 'inherit' });
      const refFile = join(scratch, 'reference.png');
      execFileSync(CLI, ['generate', '--model', MODEL, '--seed', '1', '--count', '4', '--out', refFile, '--backend', 'cpu'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      reference = decodePng(readFileSync(refFile));
    });

    await test(`examples/plain-html: npm install of ${tgz} (offline)`, async () => {
      const dir = copyExample(scratch, 'plain-html', tgz);
      sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
      assert(existsSync(join(dir, 'node_modules', 'webgan', 'browser.js')), 'node_modules/webgan/browser.js is missing');
      cpSync(MODEL, join(dir, 'models', 'faces64'), { recursive: true });
      sites['plain-html'] = dir;
    });

    await test(`examples/bundler: npm ci (offline, package-lock.json) and tsc --noEmit --strict against the shipped typings`, async () => {
      const dir = copyExample(scratch, 'bundler', tgz);
      sh('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
      const tsc = join(dir, 'node_modules', '.bin', 'tsc');
      log(`     ${sh(tsc, ['--version'], dir).trim()}, esbuild ${sh(join(dir, 'node_modules', '.bin', 'esbuild'), ['--version'], dir).trim()}`);
      sh(tsc, ['--noEmit', '--strict', '-p', '.'], dir);
      log(`     ${sh('npm', ['run', '--silent', 'build'], dir).trim()}`);
      for (const f of ['index.html', 'main.js', 'webgan_bg.wasm']) assert(existsSync(join(dir, 'dist', f)), `dist/${f} was not built`);
      cpSync(MODEL, join(dir, 'dist', 'models', 'faces64'), { recursive: true });
      sites.bundler = join(dir, 'dist');
    });

    const browsers = [{ kind: 'given', context }];
    let gpuBrowser = null;
    for (const { kind, context: ctx } of browsers.concat(webgpu ? [{ kind: 'webgpu' }] : [])) {
      if (kind === 'webgpu') {
        gpuBrowser = await launch({ webgpu: true });
      }
      for (const name of ['plain-html', 'bundler']) {
        await test(`examples/${name} (${kind === 'webgpu' ? 'WebGPU browser' : 'browser'}): the canvas shows \`webgan generate --seed 1 --count 4 --backend cpu\``, async () => {
          assert(sites[name] && reference, `examples/${name} was not installed`);
          const server = await serve(sites[name]);
          try {
            const shotName = `example-${name}-${kind === 'webgpu' ? 'webgpu' : 'browser'}`;
            const shown = await openExample(ctx ?? gpuBrowser.context, `${server.base}index.html`, reference, join(out, `${shotName}.png`), log);
            if (kind === 'webgpu') assert(shown.backend === 'webgpu', `expected WebGPU, got ${shown.backend}: ${shown.status}`);
            const tolerance = TOLERANCE[shown.backend];
            assert(tolerance !== undefined, `unknown backend ${shown.backend}`);
            const d = compareRgb(shown.grid, reference);
            log(`     ${shown.status}; canvas vs CLI: max diff ${d.max} steps (at ${d.where}), mean ${d.mean.toFixed(4)}; screenshot ${shotName}.png`);
            assert(d.max <= tolerance, `the canvas differs from the CLI by ${d.max} > ${tolerance} steps at ${d.where}`);
            if (name === 'bundler') assert(server.requests.has('/webgan_bg.wasm'), 'the bundle did not fetch webgan_bg.wasm beside it');
          } finally {
            await server.close();
          }
        });
      }
    }
    await gpuBrowser?.close();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// Alone: the browser without WebGPU (the CPU fallback), then a WebGPU one.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAlone('examples', examplesTests, { webgpu: false });
}
