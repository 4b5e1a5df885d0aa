// Hostile model folders against the page (issue 10): a server that lies in model.json, in the
// gallery or in the weights it sends. Each case opens the page on one such model and checks that
// it ends in the error state with the right message, without fetching what it must not fetch, and
// that a server streaming more than model.json promises is cut off at once (bounded memory).
// Called from run.mjs; alone (no CLI build needed, only www/pkg): node tests/e2e/hostile.mjs
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, WWW, runAlone, serve } from './harness.mjs';

const FACES = JSON.parse(readFileSync(join(WWW, 'models', 'faces64', 'model.json'), 'utf8'));
const GALLERY = JSON.parse(readFileSync(join(WWW, 'models', 'index.json'), 'utf8'));
const PROMISED = FACES.weights.bytes; // 7,158,984
const CHUNK = 64 * 1024;
// What may pass between the server and the page's reader after the page has all it asked for:
// socket buffers on both sides and Chromium's network-service pipe (a few MB); the old reader
// kept reading for ever.
const SLACK = 32 * 1024 * 1024;

/** A faces64 copy named `id` whose model.json has `weights` changed, and its gallery entry. */
function hostileModel(id, weights = {}, entry = {}) {
  const listed = GALLERY.models.find((m) => m.id === 'faces64');
  return {
    id,
    manifest: { ...FACES, name: id, weights: { ...FACES.weights, ...weights } },
    entry: { ...listed, id, path: `${id}/`, name: id, ...entry },
  };
}

/**
 * A weights route sending `total` bytes (Infinity: without end) with `content-length` when
 * finite, in 64 KiB chunks and only as fast as the page reads; `stats` tells how far it got.
 */
function streamRoute(total) {
  const stats = { requests: 0, sent: 0, closed: false, finished: false, startedAt: 0, closedAt: 0 };
  const handler = (req, res) => {
    stats.requests += 1;
    stats.startedAt = Date.now();
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'cache-control': 'no-cache',
      ...(Number.isFinite(total) ? { 'content-length': total } : {}),
    });
    const chunk = Buffer.alloc(CHUNK, 0x5a);
    res.on('close', () => {
      stats.closed = true;
      stats.closedAt = Date.now();
    });
    const pump = () => {
      // A second guard, so a page that never stops cannot keep the test server busy.
      while (!stats.closed && stats.sent < Math.min(total, 2 ** 30) && Date.now() - stats.startedAt < 60_000) {
        const n = Math.min(CHUNK, total - stats.sent);
        stats.sent += n;
        if (!res.write(n === CHUNK ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      if (!stats.closed) {
        stats.finished = true;
        res.end();
      }
    };
    pump();
  };
  return { handler, stats };
}

const CASES = [
  {
    what: 'weights.file "../x.safetensors"',
    model: hostileModel('dotdot', { file: '../x.safetensors' }),
    expect: /^The weights file "\.\.\/x\.safetensors" named in model\.json is not a plain file name inside the model folder\.$/,
    mustNotFetch: ['/models/x.safetensors', '/models/dotdot/weights.safetensors'],
  },
  {
    what: 'weights.file "..\\\\x.safetensors"',
    model: hostileModel('backslash', { file: '..\\x.safetensors' }),
    expect: /^The weights file "\.\.\\\\x\.safetensors" named in model\.json is not a plain file name inside the model folder\.$/,
    mustNotFetch: ['/models/backslash/..\\x.safetensors', '/models/x.safetensors'],
  },
  {
    what: 'weights.file "w.safetensors?x=1" (not a sane name)',
    model: hostileModel('query', { file: 'w.safetensors?x=1' }),
    expect: /^The weights file "w\.safetensors\?x=1" named in model\.json may hold only letters, digits/,
    mustNotFetch: ['/models/query/w.safetensors'],
  },
  {
    what: 'weights.bytes = 1e12',
    model: hostileModel('huge', { bytes: 1e12 }, { size: 1e12 }),
    expect: /^This model's weights are 1000000000000 bytes \(931\.3 GiB\) according to model\.json, more than the 1073741824 bytes \(1 GiB\) this page loads\.$/,
    mustNotFetch: ['/models/huge/weights.safetensors'],
  },
  {
    what: 'weights.bytes = -1',
    model: hostileModel('negative', { bytes: -1 }, { size: -1 }),
    expect: /^The weights size in model\.json \(weights\.bytes\) is -1, not a positive whole number of bytes\.$/,
    mustNotFetch: ['/models/negative/weights.safetensors'],
  },
  {
    what: 'a server streaming the weights without end',
    model: hostileModel('endless'),
    stream: Infinity,
    expect: new RegExp(`server sent more than the ${PROMISED} bytes model\\.json gives for the weights .*stopped`),
  },
  {
    what: 'a server sending twice the promised weights (with content-length)',
    model: hostileModel('double'),
    stream: 2 * PROMISED,
    expect: new RegExp(`server sent more than the ${PROMISED} bytes model\\.json gives for the weights`),
  },
  {
    what: "a gallery entry whose sha256 differs from model.json's",
    model: hostileModel('stale-hash', {}, { sha256: 'f'.repeat(64) }),
    expect: new RegExp(`model list \\(models/index\\.json\\) gives this model's weights the SHA-256 f{64} but its model\\.json says ${FACES.weights.sha256}`),
    mustNotFetch: ['/models/stale-hash/weights.safetensors'],
  },
  {
    what: "a gallery entry whose size differs from model.json's",
    model: hostileModel('stale-size', {}, { size: PROMISED + 1 }),
    expect: new RegExp(`model list \\(models/index\\.json\\) gives this model's weights as ${PROMISED + 1} bytes but its model\\.json says ${PROMISED}`),
    mustNotFetch: ['/models/stale-size/weights.safetensors'],
  },
];

/** A server for www/ whose gallery adds the hostile models (faces64 itself stays, the control). */
async function hostileServer() {
  const routes = {};
  const gallery = { ...GALLERY, models: [...GALLERY.models.filter((m) => !m.optional)] };
  for (const c of CASES) {
    gallery.models.push(c.model.entry);
    const body = JSON.stringify(c.model.manifest);
    routes[`/models/${c.model.id}/model.json`] = (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    if (c.stream) {
      c.route = streamRoute(c.stream);
      routes[`/models/${c.model.id}/weights.safetensors`] = c.route.handler;
    }
  }
  const index = JSON.stringify(gallery);
  routes['/models/index.json'] = (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(index);
  return serve(WWW, '/', routes);
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** Opens the page on model `id`; returns its end state and error text once it leaves "loading". */
async function open(context, base, id, out) {
  const page = await context.newPage();
  const t0 = Date.now();
  try {
    await page.goto(`${base}index.html?model=${id}&seed=1&batch=1&backend=cpu`);
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 60_000 });
    const ms = Date.now() - t0;
    const shown = await page.evaluate(() => ({
      state: document.body.dataset.state,
      message: document.getElementById('error-message').innerText,
      hint: document.getElementById('error-hint').innerText,
      visible: !document.getElementById('error').hidden,
    }));
    if (out) await page.screenshot({ path: join(out, `hostile-${id}.png`) });
    return { ...shown, ms };
  } finally {
    await page.close();
  }
}

/** Runs every hostile case as a `test(name, fn)` of the caller, in `context` (a browser). */
export async function hostileTests({ test, context, log = console.log, out = join(ROOT, 'build', 'e2e') }) {
  mkdirSync(out, { recursive: true });
  const server = await hostileServer();
  try {
    await test('hostile server: its gallery still loads the good model (control)', async () => {
      const shown = await open(context, server.base, 'faces64');
      assert(shown.state === 'ready', `faces64 from the hostile server: state ${shown.state}, "${shown.message}"`);
    });
    for (const c of CASES) {
      await test(`hostile: ${c.what} → a clear error`, async () => {
        const shown = await open(context, server.base, c.model.id, out);
        log(`     ${shown.ms} ms: ${shown.message} | ${shown.hint}`);
        assert(shown.state === 'error' && shown.visible, `state ${shown.state}, error shown: ${shown.visible}`);
        assert(c.expect.test(shown.message), `message "${shown.message}" does not match ${c.expect}`);
        assert(shown.hint.length > 0, 'no hint says what to do');
        for (const path of c.mustNotFetch ?? []) {
          assert(!server.requests.has(path), `the page requested ${path}`);
        }
        if (c.route) {
          const s = c.route.stats;
          log(`     server: ${s.requests} request(s), sent ${(s.sent / 1e6).toFixed(1)} MB for ${(PROMISED / 1e6).toFixed(1)} MB promised; ` +
            `connection ${s.closed ? `closed by the page after ${s.closedAt - s.startedAt} ms` : 'open'}${s.finished ? '; the server sent its whole body' : ''}`);
          assert(s.requests === 1, `the weights were requested ${s.requests} times`);
          assert(s.sent <= PROMISED + SLACK, `the server got to send ${s.sent} bytes for ${PROMISED} promised`);
          assert(s.closed || s.finished, 'the page left the download open');
          assert(shown.ms < 30_000, `the error took ${shown.ms} ms`);
        }
      });
    }
  } finally {
    await server.close();
  }
}

// Alone: a browser without WebGPU (every case fails before a generator exists; the control
// draws on the CPU), and the same ok/FAIL lines as run.mjs.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runAlone('hostile', hostileTests, { webgpu: false });
}
