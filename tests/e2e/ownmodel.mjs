// "Open your own model" and the page's accessibility (issue 9, item 6): ?src= loads a model folder
// from another path of the same server and from another origin that allows CORS, and refuses a
// non-http address; model.json + weights dropped onto the page (a synthetic drop event carrying
// File objects) load without the network, and wrong drops end in clear errors; the progress shows
// a shader-compiling phase; the canvas is keyboard-selectable with an aria-label; a light theme.
// Called from run.mjs; alone (only www/pkg needed): node tests/e2e/ownmodel.mjs
import { createReadStream, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, WWW, runAlone, serve } from './harness.mjs';
import { decodePng } from './images.mjs';

const MODELS = join(WWW, 'models');

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Routes serving www/models/`name`/ under `prefix` (e.g. /elsewhere/digits/), with extra headers. */
function folderRoutes(prefix, name, headers = {}) {
  const routes = {};
  for (const file of ['model.json', 'weights.safetensors']) {
    const path = join(MODELS, name, file);
    routes[`${prefix}${file}`] = (req, res) => {
      res.writeHead(200, {
        'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        'content-length': statSync(path).size,
        'cache-control': 'no-cache',
        ...headers,
      });
      createReadStream(path).pipe(res);
    };
  }
  return routes;
}

/** Records every text the progress line shows (the page replaces its text node each time). */
function recordProgress() {
  const seen = [];
  window.__progressSeen = seen;
  new MutationObserver(() => {
    const text = document.getElementById('progress-text')?.textContent;
    if (text && seen.at(-1) !== text) seen.push(text);
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

async function waitSettled(page, timeout = 180_000) {
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout });
  return page.evaluate(() => ({
    state: document.body.dataset.state,
    error: document.getElementById('error').hidden ? '' : document.getElementById('error').innerText,
  }));
}

async function waitReady(page) {
  const s = await waitSettled(page);
  assert(s.state === 'ready', `page state is ${s.state}: ${s.error}`);
}

/** The model in use, as the page shows it. */
function shown(page) {
  return page.evaluate(() => {
    const { app, generator: g, images } = window.webgan;
    const picker = document.getElementById('model');
    return {
      id: app.entry?.id,
      name: app.entry?.name,
      origin: app.entry?.origin,
      drawn: images?.count,
      backend: g?.backend,
      picked: picker.selectedOptions[0]?.textContent,
      info: document.getElementById('model-info').textContent,
      progressHidden: document.getElementById('progress').hidden,
      progressSeen: window.__progressSeen ?? [],
      url: location.search,
    };
  });
}

/** The canvas as displayed is not one flat colour (a WebGPU canvas reads back as zeros headless). */
async function expectPicture(page, what) {
  const shot = decodePng(await page.locator('#canvas').screenshot());
  const data = shot.rgba;
  let min = 255;
  let max = 0;
  for (let i = 0; i < data.length; i += 4) {
    min = Math.min(min, data[i], data[i + 1], data[i + 2]);
    max = Math.max(max, data[i], data[i + 1], data[i + 2]);
  }
  assert(max - min > 60, `${what}: the canvas is flat (values ${min}…${max})`);
}

/**
 * A DataTransfer in `page` holding `files` ([{ name, base64 } | { name, zeros }]) as File
 * objects, as a drop from the desktop carries.
 */
function dataTransfer(page, files) {
  return page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = f.zeros !== undefined ? new Uint8Array(f.zeros) : Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: 'application/octet-stream' }));
    }
    return dt;
  }, files);
}

/** Drags `files` over the page and drops them on the stage; returns whether the highlight showed. */
async function drop(page, files, screenshot) {
  const dt = await dataTransfer(page, files);
  await page.dispatchEvent('#stage', 'dragenter', { dataTransfer: dt });
  await page.dispatchEvent('#stage', 'dragover', { dataTransfer: dt });
  const highlighted = await page.evaluate(() => document.body.classList.contains('dragging'));
  if (screenshot) await page.screenshot({ path: screenshot });
  await page.evaluate(() => {
    document.getElementById('error').hidden = true; // to see the next error appear
    window.__dropped = true;
  });
  await page.dispatchEvent('#stage', 'drop', { dataTransfer: dt });
  await dt.dispose();
  const stillHighlighted = await page.evaluate(() => document.body.classList.contains('dragging'));
  return { highlighted, stillHighlighted };
}

const b64 = (file) => readFileSync(file).toString('base64');

export async function ownModelTests({ test, context, log = console.log, out = join(ROOT, 'build', 'e2e') }) {
  mkdirSync(out, { recursive: true });
  const routes = folderRoutes('/elsewhere/digits/', 'digits');
  const server = await serve(WWW, '/', routes);
  // Another origin (another port) that allows CORS, as a model host would.
  const other = await serve(WWW, '/nothing-else/', folderRoutes('/hub/emoji56/', 'emoji56', { 'access-control-allow-origin': '*' }));
  const newPage = async () => {
    const page = await context.newPage();
    page.on('pageerror', (e) => log(`     pageerror: ${e.message}`));
    await page.addInitScript(recordProgress);
    return page;
  };
  const faces = join(MODELS, 'faces64');
  try {
    await test('?src= loads a model folder from another path of the same server, with a compiling phase', async () => {
      const page = await newPage();
      await page.goto(`${server.base}?src=/elsewhere/digits/&seed=3&batch=4`);
      await waitReady(page);
      const s = await shown(page);
      log(`     ${s.picked} | ${s.info.slice(0, 90)}… | ${s.url}`);
      log(`     progress: ${s.progressSeen.filter((t) => !t.startsWith('downloading')).join(' → ')}`);
      assert(s.id === '__own' && s.name === 'digits' && s.drawn === 4, `model ${JSON.stringify(s)}`);
      assert(/^digits \(127\.0\.0\.1:\d+\)$/.test(s.picked), `the picker shows "${s.picked}"`);
      assert(new URLSearchParams(s.url).get('src') === `${server.base}elsewhere/digits/`, `the URL is ${s.url}`);
      assert(server.requests.get('/elsewhere/digits/weights.safetensors') === 1, 'the weights were not fetched from ?src= once');
      assert(!server.requests.has('/models/digits/weights.safetensors'), 'the gallery\'s digits were fetched');
      const compile = s.backend === 'webgpu' ? /compiling the GPU kernels/ : /preparing the model on the CPU/;
      const at = s.progressSeen.findIndex((t) => compile.test(t));
      assert(at > 0 && s.progressSeen.slice(0, at).some((t) => t.startsWith('downloading weights')), `no ${compile} phase after the download: ${s.progressSeen}`);
      assert(s.progressHidden, 'the progress is still shown when ready');
      await expectPicture(page, 'digits from ?src=');
      await page.close();
    });

    await test('?src= loads model.json from another origin that allows CORS', async () => {
      const page = await newPage();
      await page.goto(`${server.base}?src=${encodeURIComponent(`${other.base.replace('/nothing-else/', '/hub/emoji56/')}model.json`)}&batch=4`);
      await waitReady(page);
      const s = await shown(page);
      log(`     ${s.picked}`);
      assert(s.name === 'emoji56' && s.drawn === 4, `model ${JSON.stringify(s)}`);
      assert(other.requests.get('/hub/emoji56/weights.safetensors') === 1, 'the weights did not come from the other origin');
      await page.close();
    });

    await test('?src= refuses addresses that are not http(s) and folders that do not exist', async () => {
      const page = await newPage();
      for (const [src, expect] of [
        ['javascript:alert(1)', /^The model address \(\?src=\) must be an http or https URL, not javascript:\.$/],
        ['data:application/json,{}', /must be an http or https URL, not data:/],
        ['/no/such/folder/', /^Could not download the model description \(model\.json\): HTTP 404/],
      ]) {
        await page.goto(`${server.base}?src=${encodeURIComponent(src)}`);
        const s = await waitSettled(page);
        log(`     ${src}: ${s.error.split('\n')[0]}`);
        assert(s.state === 'error' && expect.test(s.error.split('\n')[0]), `${src}: ${s.state} "${s.error}"`);
      }
      await page.close();
    });

    await test('dropping faces64\'s model.json and weights.safetensors opens it without the network', async () => {
      const page = await newPage();
      await page.goto(`${server.base}?model=digits&batch=9`);
      await waitReady(page);
      const before = new Map(server.requests);
      const d = await drop(page, [
        { name: 'model.json', base64: b64(join(faces, 'model.json')) },
        { name: 'weights.safetensors', base64: b64(join(faces, 'weights.safetensors')) },
      ], join(out, 'page-dragging.png'));
      assert(d.highlighted && !d.stillHighlighted, `drop-zone highlight: while dragging ${d.highlighted}, after the drop ${d.stillHighlighted}`);
      await page.waitForFunction(() => document.body.dataset.state === 'error' ||
        (document.body.dataset.state === 'ready' && window.webgan.app.entry.origin === 'dropped'), null, { timeout: 180_000 });
      await waitReady(page);
      const s = await shown(page);
      log(`     ${s.picked} | ${s.info.slice(0, 100)}… | ${s.url}`);
      assert(s.name === 'faces64' && s.origin === 'dropped' && s.drawn === 9, `model ${JSON.stringify(s)}`);
      assert(s.picked === 'faces64 (dropped files)', `the picker shows "${s.picked}"`);
      assert(!new URLSearchParams(s.url).has('model'), `the URL still names a gallery model: ${s.url}`);
      const fetched = [...server.requests].filter(([p, n]) => p.startsWith('/models/') && n !== before.get(p)).map(([p]) => p);
      assert(fetched.length === 0, `the drop fetched ${fetched.join(', ')}`);
      await expectPicture(page, 'dropped faces64');
      await page.screenshot({ path: join(out, 'page-dropped.png') });
      // Back to a gallery model and to the dropped one, from the picker.
      await page.selectOption('#model', 'digits');
      await waitReady(page);
      await page.selectOption('#model', '__own');
      await page.waitForFunction(() => document.body.dataset.state === 'ready' && window.webgan.app.entry.name === 'faces64');
      await page.close();
    });

    await test('wrong drops end in clear errors and the page keeps working', async () => {
      const page = await newPage();
      await page.goto(`${server.base}?model=digits&batch=4`);
      await waitReady(page);
      const manifest = b64(join(faces, 'model.json'));
      const weights = readFileSync(join(faces, 'weights.safetensors'));
      const flipped = Buffer.from(weights);
      flipped[1000] ^= 1;
      const cases = [
        ['only model.json', [{ name: 'model.json', base64: manifest }], /^Only model\.json was dropped: its weights file "weights\.safetensors" is missing\./],
        ['only the weights', [{ name: 'weights.safetensors', zeros: 16 }], /^The dropped file "weights\.safetensors" holds no model\.json\./],
        ['unknown files', [{ name: 'cat.png', zeros: 8 }, { name: 'notes.txt', zeros: 8 }], /^The dropped files "cat\.png", "notes\.txt" hold no model\.json\./],
        ['model.json with an unknown file', [{ name: 'model.json', base64: manifest }, { name: 'notes.txt', zeros: 8 }], /^The weights file "weights\.safetensors" that model\.json names was not dropped with it \(only "notes\.txt"\)\./],
        ['a model.json over 4 MB', [{ name: 'model.json', zeros: 4194305 }, { name: 'weights.safetensors', zeros: 8 }], /^The dropped model\.json has 4194305 bytes, more than the 4194304 bytes \(4 MB\)/],
        ['weights of another size', [{ name: 'model.json', base64: manifest }, { name: 'weights.safetensors', base64: weights.subarray(0, 4096).toString('base64') }], /^The dropped weights file "weights\.safetensors" has 4096 bytes but model\.json says 7158984\./],
        ['weights with another SHA-256', [{ name: 'model.json', base64: manifest }, { name: 'weights.safetensors', base64: flipped.toString('base64') }], /^The dropped weights file "weights\.safetensors" does not belong to this model\.json: its SHA-256 is [0-9a-f]{64} but model\.json says 2000c5f8/],
      ];
      for (const [what, files, expect] of cases) {
        await drop(page, files);
        await page.waitForFunction(() => document.body.dataset.state === 'error' && !document.getElementById('error').hidden, null, { timeout: 60_000 });
        const message = await page.locator('#error-message').innerText();
        const hint = await page.locator('#error-hint').innerText();
        log(`     ${what}: ${message} | ${hint}`);
        assert(expect.test(message), `${what}: "${message}" does not match ${expect}`);
        assert(hint.length > 0, `${what}: no hint`);
        if (what === 'only model.json') await page.screenshot({ path: join(out, 'page-wrong-drop.png') });
      }
      // The model that was running still draws.
      await page.evaluate(() => window.webgan.setSeed(5));
      await waitReady(page);
      assert((await shown(page)).name === 'digits', 'the running model changed');
      await page.close();
    });

    await test('keyboard: the canvas takes focus, arrows move the selection, Enter plays the walk', async () => {
      const page = await newPage();
      await page.goto(`${server.base}?model=digits&batch=9&class=3`);
      await waitReady(page);
      const state = () => page.evaluate(() => {
        const c = document.getElementById('canvas');
        return {
          label: c.getAttribute('aria-label'),
          tabindex: c.getAttribute('tabindex'),
          selected: window.webgan.app.selected,
          button: document.getElementById('selected').textContent,
          walking: window.webgan.app.walk.running,
          focused: document.activeElement === c,
          mark: getComputedStyle(document.getElementById('tile-mark')).display,
        };
      });
      const s0 = await state();
      log(`     aria-label: ${s0.label}`);
      assert(s0.tabindex === '0', `tabindex ${s0.tabindex}`);
      assert(/^9 images generated by digits, 3 by 3; image 1 selected \(row 1, column 1\)/.test(s0.label), `aria-label "${s0.label}"`);
      // Tab from the last control before the canvas, as a keyboard user would.
      await page.focus('#download-one');
      await page.keyboard.press('Tab');
      await page.keyboard.press('ArrowRight');
      const s1 = await state();
      assert(s1.focused && s1.selected === 1 && s1.button === '2' && /image 2 selected \(row 1, column 2\)/.test(s1.label), `after ArrowRight: ${JSON.stringify(s1)}`);
      await page.keyboard.press('ArrowDown');
      const s2 = await state();
      assert(s2.selected === 4 && /image 5 selected \(row 2, column 2\)/.test(s2.label), `after ArrowDown: ${JSON.stringify(s2)}`);
      assert(s2.mark === 'block', `the selection mark is ${s2.mark} while the canvas has keyboard focus`);
      await page.screenshot({ path: join(out, 'page-keyboard.png') });
      await page.keyboard.press('End');
      await page.keyboard.press('ArrowRight'); // past the last image: stays
      const s3 = await state();
      assert(s3.selected === 8, `after End, ArrowRight: ${JSON.stringify(s3)}`);
      await page.keyboard.press('Enter');
      assert((await state()).walking, 'Enter did not start the walk');
      await page.keyboard.press(' ');
      assert(!(await state()).walking, 'Space did not pause the walk');
      await page.close();
    });

    await test('light theme: prefers-color-scheme light gives a light page, dark the dark one', async () => {
      const page = await newPage();
      const look = () => page.evaluate(() => {
        const b = getComputedStyle(document.body);
        const panel = getComputedStyle(document.getElementById('controls'));
        return { bg: b.backgroundColor, color: b.color, panel: panel.backgroundColor };
      });
      const luminance = (rgb) => {
        const [r, g, b] = rgb.match(/\d+/g).map(Number);
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
      };
      await page.emulateMedia({ colorScheme: 'light' });
      await page.goto(`${server.base}?model=digits&batch=16&class=7`);
      await waitReady(page);
      const light = await look();
      await page.screenshot({ path: join(out, 'page-light.png') });
      await page.emulateMedia({ colorScheme: 'dark' });
      const dark = await look();
      await page.screenshot({ path: join(out, 'page-dark.png') });
      log(`     light: ${JSON.stringify(light)}; dark: ${JSON.stringify(dark)}`);
      assert(light.bg !== dark.bg, 'the background does not change with the colour scheme');
      assert(luminance(light.bg) > 0.8 && luminance(light.color) < 0.25, `light theme: ${JSON.stringify(light)}`);
      assert(luminance(dark.bg) < 0.2 && luminance(dark.color) > 0.8, `dark theme: ${JSON.stringify(dark)}`);
      await page.close();
    });
  } finally {
    await server.close();
    await other.close();
  }
}

// Alone: WebGPU on (as run.mjs), and the same ok/FAIL lines as run.mjs.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAlone('ownmodel', ownModelTests, { webgpu: process.env.WEBGAN_E2E_CPU !== '1' });
}
