// The packed npm tarball in Node: installed offline into a scratch project, it must reproduce
// `webgan generate --backend cpu` (floats to 1e-5, PNG pixels to 1 step of 255, realness logits), load
// from a folder path, a file: URL and an http URL (streamed, cut off past the promised size), and
// refuse hostile folders with one clear line.
// Run by `make test-package` (after `make package` and `cargo build --release --bin webgan`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { installTarball, root } from './scratch.mjs';
import { decodePng, maxDiff, readNpy } from './npy.mjs';

const cli = path.join(root, 'target', 'release', 'webgan');
const faces = path.join(root, 'www', 'models', 'faces64');
const emoji = path.join(root, 'www', 'models', 'emoji56');
let scratch;
let webgan; // the installed package, imported as `webgan` resolves from the scratch project

function run(command, args, cwd = scratch.dir) {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function assertClose(actual, expected, tolerance, what) {
  const { worst, where } = maxDiff(actual, expected);
  assert.ok(worst <= tolerance,
    `${what}: max |diff| ${worst} at ${where} (package ${actual[where]}, CLI ${expected[where]}); first values package ${Array.from(actual.slice(0, 4))}, CLI ${Array.from(expected.slice(0, 4))}`);
}

before(async () => {
  scratch = installTarball();
  const entry = run('node', ['--input-type=module', '-e', "console.log(import.meta.resolve('webgan'))"]).trim();
  assert.match(entry, /node_modules\/webgan\/node\.js$/, 'in Node, `webgan` resolves to the node entry');
  webgan = await import(entry);
  run(cli, ['generate', '--model', faces, '--seed', '1', '--count', '4', '--out', 'cli.npy', '--backend', 'cpu']);
});

after(() => scratch?.cleanup());

test('the issue\'s Node script reproduces `webgan generate --seed 1 --count 4 --backend cpu` to 1e-5', () => {
  copyFileSync(path.join(import.meta.dirname, 'reproduce.mjs'), path.join(scratch.dir, 'reproduce.mjs'));
  const printed = JSON.parse(run('node', ['reproduce.mjs', faces, 'package.f32']));
  assert.deepEqual(printed, { name: 'faces64', backend: 'cpu', count: 4, values: 4 * 3 * 64 * 64 });
  const expected = readNpy(path.join(scratch.dir, 'cli.npy'));
  assert.deepEqual(expected.shape, [4, 3, 64, 64]);
  const bytes = readFileSync(path.join(scratch.dir, 'package.f32'));
  const actual = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  assertClose(actual, expected.data, 1e-5, 'floats of seed 1');
});

test('a folder path and a file: URL load with progress; rgba, PNG and grid match the CLI\'s PNG', async () => {
  const phases = [];
  const generator = await webgan.loadGenerator(faces, { onProgress: (p) => phases.push(p) });
  assert.equal(generator.backend, 'cpu', "plain Node has no navigator.gpu: 'auto' is the CPU");
  assert.match(generator.adapter, /^CPU fallback: /);
  assert.equal(typeof generator.fallbackReason, 'string');
  assert.deepEqual([generator.name, generator.latentDim, generator.numClasses, generator.width, generator.height, generator.channels], ['faces64', 100, 0, 64, 64, 3]);
  const weightsBytes = JSON.parse(readFileSync(path.join(faces, 'model.json'), 'utf8')).weights.bytes;
  assert.deepEqual(phases.at(-1), { phase: 'compile', loaded: 1, total: 2 });
  assert.ok(phases.some((p) => p.phase === 'download' && p.loaded === weightsBytes && p.total === weightsBytes), 'download reaches the weights size');
  assert.ok(phases.some((p) => p.phase === 'verify' && p.loaded === weightsBytes), 'verify is reported');

  const images = await generator.generate({ seed: 1, count: 1 });
  assert.deepEqual(phases.at(-1), { phase: 'compile', loaded: 2, total: 2 }, 'the first generate ends the compile phase');
  run(cli, ['generate', '--model', faces, '--seed', '1', '--count', '1', '--out', 'one.png', '--backend', 'cpu']);
  const png = decodePng(readFileSync(path.join(scratch.dir, 'one.png')));
  const rgba = await images.rgba(0);
  assert.ok(rgba instanceof Uint8ClampedArray);
  assert.deepEqual([png.width, png.height], [64, 64]);
  assertClose(rgba, png.rgba, 1, 'rgba(0) against the CLI PNG (float rounding may move a byte by 1)');
  const blob = await images.toBlob(0);
  assert.equal(blob.type, 'image/png');
  const ours = decodePng(Buffer.from(await blob.arrayBuffer()));
  assert.ok(Buffer.from(ours.rgba).equals(Buffer.from(rgba)), 'toBlob(0) holds the same pixels');
  await assert.rejects(images.imageData(0), /ImageData does not exist here/);
  await assert.rejects(images.rgba(1), RangeError);
  images.dispose();
  await assert.rejects(images.floats(), /disposed/);
  generator.dispose();
  assert.throws(() => generator.latents(1, 1), /disposed/);

  const byUrl = await webgan.loadGenerator(pathToFileURL(`${faces}/`), { backend: 'cpu' });
  const four = await byUrl.generate({ seed: 1, count: 4 });
  run(cli, ['generate', '--model', faces, '--seed', '1', '--count', '4', '--out', 'grid.png', '--backend', 'cpu']);
  const grid = decodePng(readFileSync(path.join(scratch.dir, 'grid.png')));
  assert.deepEqual(four.gridSize(), { columns: 2, width: grid.width, height: grid.height });
  assertClose(await four.gridRgba(), grid.rgba, 1, 'gridRgba() against the CLI grid PNG');
  byUrl.dispose();
});

test('latents, slerp, queued concurrent calls and classes', async () => {
  const generator = await webgan.loadGenerator(faces, { backend: 'cpu' });
  const z = generator.latents(1, 2);
  assert.equal(z.length, 200);
  const mid = generator.slerp(z.subarray(0, 100), z.subarray(100), 0);
  assertClose(mid, z.subarray(0, 100), 1e-6, 'slerp at t = 0');
  // Calls made together queue in order; none fails for being busy.
  const [bySeed, byLatents] = await Promise.all([generator.generate({ seed: 1, count: 2 }), generator.generate({ latents: z, count: 2 })]);
  assertClose(await byLatents.floats(), await bySeed.floats(), 0, 'latents(1, 2) give the images of seed 1');
  await assert.rejects(generator.generate({ seed: 1, count: 0 }), RangeError);
  await assert.rejects(generator.generate({ seed: 1, count: 1 }, { classes: 3 }), /class/i);
  assert.throws(() => generator.latents(-1, 1), RangeError);
  generator.dispose();

  const digits = await webgan.loadGenerator(path.join(root, 'www', 'models', 'digits'), { backend: 'cpu' });
  assert.equal(digits.numClasses, 10);
  const sevens = await digits.generate({ seed: 3, count: 2 }, { classes: 7 });
  run(cli, ['generate', '--model', path.join(root, 'www', 'models', 'digits'), '--seed', '3', '--count', '2', '--class', '7', '--out', 'sevens.npy', '--backend', 'cpu']);
  assertClose(await sevens.floats(), readNpy(path.join(scratch.dir, 'sevens.npy')).data, 1e-5, 'digits class 7');
  digits.dispose();
});

test('realness from a discriminator folder matches the CLI\'s logits', async () => {
  const generator = await webgan.loadGenerator(emoji, { backend: 'cpu' });
  const images = await generator.generate({ seed: 1, count: 2 });
  const logits = await generator.realness(path.join(emoji, 'discriminator'), images);
  const table = run(cli, ['generate', '--model', emoji, '--seed', '1', '--count', '2', '--out', 'emoji.png', '--backend', 'cpu',
    '--sort-by-realness', path.join(emoji, 'discriminator')]);
  const expected = new Float32Array(2);
  for (const line of table.trim().split('\n').slice(1)) {
    const [, image, logit] = line.split('\t').map(Number);
    expected[image] = logit;
  }
  assertClose(logits, expected, 1e-3, 'realness logits (the CLI prints 4 decimals)');
  generator.dispose();
});

test('an http URL streams with progress; a server sending more than model.json promises is cut off', async () => {
  const manifest = readFileSync(path.join(faces, 'model.json'));
  const weights = readFileSync(path.join(faces, 'weights.safetensors'));
  const served = [];
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    served.push(pathname);
    if (pathname.endsWith('/model.json') && !pathname.startsWith('/missing/')) res.end(manifest);
    else if (pathname === '/faces64/weights.safetensors') res.end(weights);
    else if (pathname === '/long/weights.safetensors') {
      res.write(weights);
      res.end(Buffer.alloc(1 << 16)); // more than the manifest's weights.bytes
    } else res.writeHead(404).end('not found');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const phases = [];
    const generator = await webgan.loadGenerator(`${base}/faces64`, { onProgress: (p) => phases.push(p) });
    assert.ok(phases.filter((p) => p.phase === 'download').length >= 2, 'download progress is reported as it streams');
    assertClose((await (await generator.generate({ seed: 1, count: 1 })).floats()),
      readNpy(path.join(scratch.dir, 'cli.npy')).data.subarray(0, 3 * 64 * 64), 1e-5, 'seed 1 over http');
    generator.dispose();
    assert.ok(served.some((p) => p === '/faces64/weights.safetensors'));
    await assert.rejects(webgan.loadGenerator(`${base}/long/`, { backend: 'cpu' }),
      /the server sent more than the 7158984 bytes model\.json gives for the weights \(weights\.safetensors\), so the download was stopped/);
    await assert.rejects(webgan.loadGenerator(`${base}/missing/`, { backend: 'cpu' }), /HTTP 404/);
  } finally {
    await new Promise((ok) => (server.close(ok), server.closeAllConnections()));
  }
});

/** A copy of faces64's folder with model.json changed by `edit`. */
function hostileFolder(name, edit) {
  const dir = path.join(scratch.dir, name);
  mkdirSync(dir);
  const manifest = JSON.parse(readFileSync(path.join(faces, 'model.json'), 'utf8'));
  symlinkSync(path.join(faces, manifest.weights.file), path.join(dir, manifest.weights.file));
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(edit(manifest)));
  return dir;
}

test('hostile sources fail with one clear line', async () => {
  const escape = hostileFolder('escape', (m) => ({ ...m, weights: { ...m.weights, file: '../x' } }));
  const oneLine = (pattern) => (e) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  };
  await assert.rejects(webgan.loadGenerator(escape, { backend: 'cpu' }),
    oneLine(/the weights file "\.\.\/x" named in model\.json .* is not a plain file name inside the model folder/));
  const manifest = readFileSync(path.join(escape, 'model.json'), 'utf8');
  await assert.rejects(webgan.loadGenerator({ manifest, weights: new Uint8Array(readFileSync(path.join(faces, 'weights.safetensors'))) }, { backend: 'cpu' }),
    oneLine(/plain file name/), 'in memory, the engine refuses it too');

  const bigger = hostileFolder('bigger', (m) => ({ ...m, weights: { ...m.weights, bytes: m.weights.bytes - 1 } }));
  await assert.rejects(webgan.loadGenerator(bigger, { backend: 'cpu' }), oneLine(/has \d+ bytes but model\.json says \d+/));
  const huge = hostileFolder('huge', (m) => ({ ...m, weights: { ...m.weights, bytes: 2 ** 31 } }));
  await assert.rejects(webgan.loadGenerator(huge, { backend: 'cpu' }), oneLine(/more than the 1073741824 bytes/));
  const wrongHash = hostileFolder('hash', (m) => ({ ...m, weights: { ...m.weights, sha256: '0'.repeat(64) } }));
  await assert.rejects(webgan.loadGenerator(wrongHash, { backend: 'cpu' }), oneLine(/SHA-256 is [0-9a-f]{64} but model\.json says 0{64}/));

  const fifo = path.join(scratch.dir, 'fifo');
  mkdirSync(fifo);
  run('mkfifo', [path.join(fifo, 'model.json')]);
  await assert.rejects(webgan.loadGenerator(fifo, { backend: 'cpu' }), oneLine(/is not a regular file/));
  const large = path.join(scratch.dir, 'large');
  mkdirSync(large);
  writeFileSync(path.join(large, 'model.json'), Buffer.alloc(webgan.MAX_MANIFEST_BYTES + 1, 32));
  await assert.rejects(webgan.loadGenerator(large, { backend: 'cpu' }), oneLine(/webgan reads at most 4194304/));
  await assert.rejects(webgan.loadGenerator(path.join(scratch.dir, 'missing'), { backend: 'cpu' }), oneLine(/does not exist/));
  await assert.rejects(webgan.loadGenerator(faces, { backend: 'gpu' }), oneLine(/backend must be 'auto', 'webgpu' or 'cpu'/));
  await assert.rejects(webgan.loadGenerator(faces, { signal: AbortSignal.abort() }), { name: 'AbortError' });
});
