// The Cache API copy of each model's weights, keyed by the SHA-256 that model.json gives, so a
// second visit loads without downloading and a changed model is a new key. Only the newest
// copy of a model (by name) is kept. Where the Cache API is missing or refuses (storage
// disabled, out of quota, Node), webgan works without it.
import { verify } from './verify.js';

const CACHE = 'webgan-weights-v1';

/** The cache, or null where there is none to use. */
async function openCache() {
  try {
    if (!globalThis.caches || !globalThis.location) return null;
    return await globalThis.caches.open(CACHE);
  } catch {
    return null;
  }
}

/** Whether a cache can be used here (the default of the `cache` option). */
export function cacheAvailable() {
  return Boolean(globalThis.caches && globalThis.location);
}

function modelName(manifest) {
  return String(manifest.name ?? 'model').replace(/[^A-Za-z0-9_.-]/g, '_');
}

function keyOf(manifest) {
  return new URL(`__webgan-weights/${modelName(manifest)}/${manifest.weights.sha256}`, globalThis.location.href).href;
}

/** The cached weights of `manifest` when a copy that verifies is there, else null. */
export async function cachedWeights(manifest) {
  const cache = await openCache();
  if (!cache) return null;
  try {
    const key = keyOf(manifest);
    const hit = await cache.match(key);
    if (!hit) return null;
    const bytes = new Uint8Array(await hit.arrayBuffer());
    if ((await verify(bytes, manifest.weights)) === null) return bytes;
    await cache.delete(key); // a damaged copy: download it again
  } catch {
    // an unreadable entry is a miss
  }
  return null;
}

/** Keeps `bytes` (verified) as the weights of `manifest`, dropping older copies of the model. */
export async function storeWeights(manifest, bytes) {
  const cache = await openCache();
  if (!cache) return;
  try {
    const key = keyOf(manifest);
    await cache.put(key, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
    const folder = `/__webgan-weights/${modelName(manifest)}/`;
    for (const old of await cache.keys()) {
      if (old.url.includes(folder) && old.url !== key) await cache.delete(old);
    }
  } catch {
    // Out of quota: webgan still works, the next load downloads again.
  }
}
