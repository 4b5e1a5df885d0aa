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

/** models/index.json: the models this site offers. */
export async function fetchGallery(base = 'models/') {
  const response = await get(new URL('index.json', new URL(base, location.href)), 'the model list');
  const gallery = await response.json();
  if (Array.isArray(gallery.models)) {
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
  if (!Array.isArray(gallery.models) || gallery.models.length === 0) {
    throw new LoadError('models/index.json lists no models', 'The site is misconfigured: add a model to models/index.json.');
  }
  return gallery;
}

/** model.json of the model in folder `modelUrl`: its text (for the engine) and parsed form. */
export async function fetchManifest(modelUrl) {
  const response = await get(new URL('model.json', modelUrl), 'the model description (model.json)');
  const text = await response.text();
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new LoadError(`model.json is not valid JSON (${e.message})`, 'Choose another model; this one is broken.');
  }
  const w = manifest.weights;
  if (!w || typeof w.file !== 'string' || typeof w.bytes !== 'number' || !/^[0-9a-f]{64}$/.test(w.sha256 ?? '')) {
    throw new LoadError('model.json does not say which weights file to load (weights.file, bytes, sha256)', 'Choose another model; this one is not a webgan model.');
  }
  return { text, manifest };
}

const CACHE = 'webgan-weights-v1';
const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** SHA-256 of `bytes` as hex, or null where crypto.subtle is missing (plain http on a LAN host). */
export async function sha256(bytes) {
  if (!globalThis.crypto?.subtle) return null;
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

async function verify(bytes, spec) {
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
  const bytes = await readWithProgress(response, spec.bytes, onProgress);
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

async function readWithProgress(response, expected, onProgress) {
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress(bytes.byteLength, expected, false);
    return bytes;
  }
  const reader = response.body.getReader();
  let buffer = new Uint8Array(expected);
  let loaded = 0;
  onProgress(0, expected, false);
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw new LoadError(`the download of the weights broke off after ${loaded} bytes (${e.message})`, 'Check your connection and reload the page.');
    }
    if (chunk.done) break;
    if (loaded + chunk.value.byteLength > buffer.byteLength) {
      // Larger than model.json says: keep reading, verify() reports it.
      const bigger = new Uint8Array(Math.max(buffer.byteLength * 2, loaded + chunk.value.byteLength));
      bigger.set(buffer.subarray(0, loaded));
      buffer = bigger;
    }
    buffer.set(chunk.value, loaded);
    loaded += chunk.value.byteLength;
    onProgress(loaded, expected, false);
  }
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
