// Loading a model for the page and the bench: the gallery, model.json, and the weights, streamed
// with progress, checked (size, SHA-256) and kept in the Cache API under their hash. The engine
// (pkg/webgan.js) checks them again before use.
import init, { Generator } from './pkg/webgan.js';

export { Generator };

let wasm;
/** Loads and instantiates the wasm module once. */
export function initWasm() {
  wasm ??= init().catch((e) => {
    wasm = undefined;
    throw new LoadError(`could not load the WebAssembly module (${e.message})`, 'Reload the page; if it persists, your browser may not support WebAssembly.');
  });
  return wasm;
}

// The caps of src/limits.rs (the native loader's), kept equal by hand: the page has no build
// step that could read them from the crate.
/** The largest weights file the page loads, in bytes (1 GiB). */
export const MAX_WEIGHTS_BYTES = 1073741824;
/** The largest model.json (and models/index.json) the page reads, in bytes (4 MB). */
export const MAX_MANIFEST_BYTES = 4194304;

// A weights file name the page fetches: one plain name inside the model folder. Native code
// (Model::load_dir) refuses `/`, `\` and a leading dot; the page also refuses what a URL would
// treat specially (`%`, `?`, `#`, `:`, spaces), so the file can only be a sibling of model.json.
const WEIGHTS_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

/** An error with a hint saying what to do about it. */
export class LoadError extends Error {
  constructor(message, hint) {
    super(message);
    this.hint = hint;
  }
}

async function get(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new LoadError(`could not download ${what}: network error (${e.message})`, 'Check your connection and reload the page.');
  }
  if (!response.ok) {
    throw new LoadError(`could not download ${what}: HTTP ${response.status} ${response.statusText} for ${url}`, 'Reload the page; if it persists the site is missing this file.');
  }
  return response;
}

/** `value` for an error message: JSON-quoted and cut short, as manifests can hold anything. */
function quote(value) {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/**
 * Reads `response`'s body chunk by chunk, handing each to `onChunk(chunk, offset)`, and returns
 * the byte count. A body longer than `limit` bytes is cancelled at the first chunk past it and
 * `tooLong()` is thrown: a server cannot make the page read (or keep) more than `limit` bytes.
 */
async function readAtMost(response, limit, what, tooLong, onChunk) {
  if (!response.body) return 0; // a null body: no bytes
  const reader = response.body.getReader();
  let loaded = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw new LoadError(`the download of ${what} broke off after ${loaded} bytes (${e.message})`, 'Check your connection and reload the page.');
    }
    if (chunk.done) return loaded;
    if (loaded + chunk.value.byteLength > limit) {
      reader.cancel().catch(() => {}); // stop the download; its outcome no longer matters
      throw tooLong();
    }
    onChunk(chunk.value, loaded);
    loaded += chunk.value.byteLength;
  }
}

/** A small JSON file (model.json, models/index.json), at most MAX_MANIFEST_BYTES, as text. */
async function readJsonText(response, name, hint) {
  const chunks = [];
  const length = await readAtMost(response, MAX_MANIFEST_BYTES, name, () =>
    new LoadError(`${name} is larger than ${MAX_MANIFEST_BYTES} bytes (4 MB), the most this page reads`, hint),
  (chunk) => chunks.push(chunk));
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes); // UTF-8, as response.text()
}

/** models/index.json: the models this site offers. */
export async function fetchGallery(base = 'models/') {
  const response = await get(new URL('index.json', new URL(base, location.href)), 'the model list');
  const hint = 'The site is misconfigured: regenerate models/index.json.';
  let gallery;
  try {
    gallery = JSON.parse(await readJsonText(response, 'the model list (models/index.json)', hint));
  } catch (e) {
    if (e instanceof LoadError) throw e;
    throw new LoadError(`models/index.json is not valid JSON (${e.message})`, hint);
  }
  if (Array.isArray(gallery?.models)) {
    // Optional models are built locally (`make models`), not committed: offer them only where
    // this site actually has them.
    const base_url = new URL(base, location.href);
    const present = await Promise.all(gallery.models.map(async (m) => {
      if (!m.optional) return true;
      try {
        return (await fetch(new URL(`${m.path}model.json`, base_url), { method: 'HEAD' })).ok;
      } catch {
        return false;
      }
    }));
    gallery.models = gallery.models.filter((_, i) => present[i]);
  }
  if (!Array.isArray(gallery?.models) || gallery.models.length === 0) {
    throw new LoadError('models/index.json lists no models', 'The site is misconfigured: add a model to models/index.json.');
  }
  return gallery;
}

/**
 * model.json of the model in folder `modelUrl`: its text (for the engine) and parsed form.
 * `listed`, the model's gallery entry (or an entry's `discriminator`), must give the same
 * weights (`size`, `sha256`) as the manifest, so a stale or tampered folder is refused before
 * its weights are downloaded.
 */
export async function fetchManifest(modelUrl, listed = undefined) {
  const response = await get(new URL('model.json', modelUrl), 'the model description (model.json)');
  const text = await readJsonText(response, 'the model description (model.json)', 'Choose another model; this one is not a webgan model.');
  const manifest = parseManifest(text);
  const w = manifest.weights;
  if (listed?.sha256 !== undefined && listed.sha256 !== w.sha256) {
    throw new LoadError(`the model list (models/index.json) gives this model's weights the SHA-256 ${/^[0-9a-f]{64}$/.test(listed.sha256) ? listed.sha256 : quote(listed.sha256)} but its model.json says ${w.sha256}`,
      'Choose another model; the site must update its model list or this model\'s folder.');
  }
  if (listed?.size !== undefined && listed.size !== w.bytes) {
    throw new LoadError(`the model list (models/index.json) gives this model's weights as ${quote(listed.size)} bytes but its model.json says ${w.bytes}`,
      'Choose another model; the site must update its model list or this model\'s folder.');
  }
  return { text, manifest };
}

/** model.json's text parsed, with the checks of its `weights` entry (before any weights are read). */
export function parseManifest(text) {
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new LoadError(`model.json is not valid JSON (${e.message})`, 'Choose another model; this one is broken.');
  }
  checkWeightsSpec(manifest?.weights);
  return manifest;
}

/** The checks native code makes on `weights` before reading a byte, and the page's size cap. */
function checkWeightsSpec(w) {
  if (!w || typeof w.file !== 'string' || typeof w.bytes !== 'number' || !/^[0-9a-f]{64}$/.test(w.sha256 ?? '')) {
    throw new LoadError('model.json does not say which weights file to load (weights.file, bytes, sha256)', 'Choose another model; this one is not a webgan model.');
  }
  const broken = 'Choose another model; this one is broken.';
  if (w.file.includes('/') || w.file.includes('\\') || w.file.startsWith('.')) {
    throw new LoadError(`the weights file ${quote(w.file)} named in model.json is not a plain file name inside the model folder`,
      'Choose another model; its weights.file must be a plain name such as weights.safetensors (no "/", no "\\", no leading dot).');
  }
  if (!WEIGHTS_FILE.test(w.file)) {
    throw new LoadError(`the weights file ${quote(w.file)} named in model.json may hold only letters, digits, "-", "_" and "." (up to 255 of them)`,
      'Choose another model; weights.file must be a file name such as weights.safetensors.');
  }
  if (!Number.isSafeInteger(w.bytes) || w.bytes <= 0) {
    throw new LoadError(`the weights size in model.json (weights.bytes) is ${quote(w.bytes)}, not a positive whole number of bytes`, broken);
  }
  if (w.bytes > MAX_WEIGHTS_BYTES) {
    throw new LoadError(`this model's weights are ${w.bytes} bytes (${(w.bytes / 2 ** 30).toFixed(1)} GiB) according to model.json, more than the ${MAX_WEIGHTS_BYTES} bytes (1 GiB) this page loads`,
      'Choose a smaller model.');
  }
}

const CACHE = 'webgan-weights-v1';
const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** SHA-256 of `bytes` as hex, or null where crypto.subtle is missing (plain http on a LAN host). */
export async function sha256(bytes) {
  if (!globalThis.crypto?.subtle) return null;
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

/** Why `bytes` are not the weights `spec` (model.json's `weights`) describes, or null when they are. */
export async function verify(bytes, spec) {
  if (bytes.byteLength !== spec.bytes) {
    return `it has ${bytes.byteLength} bytes but model.json says ${spec.bytes}`;
  }
  const actual = await sha256(bytes);
  if (actual !== null && actual !== spec.sha256) {
    return `its SHA-256 is ${actual} but model.json says ${spec.sha256}`;
  }
  return null;
}

async function openCache() {
  try {
    return globalThis.caches ? await caches.open(CACHE) : null;
  } catch {
    return null; // e.g. storage disabled: work without the cache
  }
}

/**
 * The weights of the model in `modelUrl` as a Uint8Array, from the Cache API when a copy with
 * the manifest's SHA-256 is there, else streamed from the network. `onProgress(loaded, total,
 * fromCache)` reports bytes. Returns { bytes, fromCache }.
 */
export async function fetchWeights(modelUrl, manifest, onProgress = () => {}) {
  const spec = manifest.weights;
  checkWeightsSpec(spec); // again, for callers that parsed model.json themselves
  const name = String(manifest.name ?? 'model').replace(/[^A-Za-z0-9_.-]/g, '_');
  const key = new URL(`__webgan-weights/${name}/${spec.sha256}`, location.href).href;
  const cache = await openCache();
  if (cache) {
    const hit = await cache.match(key);
    if (hit) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      if ((await verify(bytes, spec)) === null) {
        onProgress(bytes.byteLength, spec.bytes, true);
        return { bytes, fromCache: true };
      }
      await cache.delete(key); // a damaged copy: fetch it again
    }
  }
  // The hash in the query string makes a changed file a new URL for every HTTP cache on the way.
  const url = new URL(spec.file, modelUrl);
  url.searchParams.set('sha256', spec.sha256);
  const response = await get(url, `the weights (${spec.file})`);
  const bytes = await readWithProgress(response, spec, onProgress);
  const problem = await verify(bytes, spec);
  if (problem) {
    throw new LoadError(`the downloaded weights are corrupt or do not belong to this model: ${problem}`, 'Reload to download them again; if it persists, the site holds a wrong file.');
  }
  if (cache) {
    try {
      await cache.put(key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
      for (const old of await cache.keys()) {
        if (old.url.includes(`/__webgan-weights/${name}/`) && old.url !== key) await cache.delete(old);
      }
    } catch {
      // Out of quota: the page still works, a reload downloads again.
    }
  }
  return { bytes, fromCache: false };
}

/**
 * The body of `response`, exactly `spec.bytes` long or shorter (verify() reports a short one),
 * in one buffer of that size: a server sending more is cut off at the first chunk past it.
 */
async function readWithProgress(response, spec, onProgress) {
  const expected = spec.bytes; // checked: 1 to MAX_WEIGHTS_BYTES
  const buffer = new Uint8Array(expected);
  onProgress(0, expected, false);
  const loaded = await readAtMost(response, expected, 'the weights', () =>
    new LoadError(`the server sent more than the ${expected} bytes model.json gives for the weights (${spec.file}), so the download was stopped`,
      'Reload the page; if it persists, the site holds a wrong weights file.'),
  (chunk, at) => {
    buffer.set(chunk, at);
    onProgress(at + chunk.byteLength, expected, false);
  });
  return buffer.subarray(0, loaded);
}

/** A Generator on a fresh canvas (a canvas keeps the context type it got first). */
export async function createGenerator(text, bytes, canvas, backend = 'auto', reason = undefined) {
  try {
    return await Generator.create(text, bytes, canvas, { backend, reason });
  } catch (e) {
    throw new LoadError(`this model cannot run here: ${e.message}`, 'Choose another model, or reload the page.');
  }
}
