// Where a model comes from: a folder URL (fetched, checked, cached), a local folder (Node; read
// by the entry's `platform.readFolder`) or { manifest, weights } in memory. Every path ends in
// the two things the engine takes: model.json's text and the weights' bytes.
import { LoadError, checkAborted, quote } from './errors.js';
import { parseManifest, manifestText, matchExpected, MAX_WEIGHTS_BYTES } from './manifest.js';
import { get, readJsonText, readWeights } from './download.js';
import { cachedWeights, storeWeights } from './cache.js';
import { verify } from './verify.js';

/**
 * `{ text, weights }` of `source`. `settings`: `cache` (boolean), `signal`, and
 * `report(phase, loaded, total)`; `what` names the model in errors ("the model", "the discriminator").
 */
export async function resolveSource(source, settings, platform, what = 'the model') {
  checkAborted(settings.signal);
  if (typeof source === 'string' || source instanceof URL) {
    const path = platform.localPath?.(source);
    if (path != null) return platform.readFolder(path, settings, what);
    return fetchFolder(folderUrl(source, what), settings);
  }
  if (source && typeof source === 'object' && 'manifest' in source) {
    return inMemory(source, what);
  }
  throw new LoadError(`${what} must be given as the URL of a model folder or as { manifest, weights }, not ${quote(source)}`,
    'Pass a URL such as "models/faces64/" or { manifest: modelJsonText, weights: weightsBytes }.');
}

function inMemory(source, what) {
  let { weights } = source;
  if (weights instanceof ArrayBuffer) weights = new Uint8Array(weights);
  if (!(weights instanceof Uint8Array)) {
    throw new LoadError(`the weights of ${what} must be a Uint8Array (the bytes of its weights file), not ${quote(weights)}`,
      'Pass { manifest, weights } with weights the bytes of weights.safetensors.');
  }
  if (weights.byteLength > MAX_WEIGHTS_BYTES) {
    throw new LoadError(`the weights of ${what} are ${weights.byteLength} bytes, more than the ${MAX_WEIGHTS_BYTES} bytes (1 GiB) webgan loads`, 'Choose a smaller model.');
  }
  return { text: manifestText(source.manifest), weights };
}

/** A model folder's URL, ending in "/" (a URL of its model.json names the same folder). */
function folderUrl(source, what) {
  let url;
  try {
    url = new URL(source, globalThis.location?.href);
  } catch {
    throw new LoadError(`${quote(String(source))} is not a URL of ${what}'s folder`, 'Pass an absolute URL, or a path on this site such as "models/faces64/".');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LoadError(`${what} URL ${quote(url.href)} is not an http(s) URL`, 'Pass the http(s) URL of a model folder.');
  }
  url.search = '';
  url.hash = '';
  if (url.pathname.endsWith('/model.json')) return new URL('./', url);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** model.json and the weights of the folder at `folder`, from the cache where it holds them. */
async function fetchFolder(folder, { cache, signal, report, expect }) {
  const response = await get(new URL('model.json', folder), `the model description (model.json) of ${folder.href}`, signal);
  const text = await readJsonText(response, 'model.json', signal);
  const manifest = parseManifest(text);
  const spec = manifest.weights;
  matchExpected(spec, expect); // before a byte of the weights is fetched
  checkAborted(signal);
  if (cache) {
    const hit = await cachedWeights(manifest);
    if (hit) {
      report('download', spec.bytes, spec.bytes);
      report('verify', spec.bytes, spec.bytes);
      return { text, weights: hit };
    }
  }
  // The hash in the query string makes a changed file a new URL for every HTTP cache on the way.
  const url = new URL(spec.file, folder);
  url.searchParams.set('sha256', spec.sha256);
  const body = await get(url, `the weights (${spec.file})`, signal);
  const weights = await readWeights(body, spec, (loaded, total) => report('download', loaded, total), signal);
  report('verify', 0, spec.bytes);
  const problem = await verify(weights, spec);
  if (problem) {
    throw new LoadError(`the downloaded weights are corrupt or do not belong to this model: ${problem}`,
      'Load again to download them again; if it persists, the server holds a wrong file.');
  }
  report('verify', spec.bytes, spec.bytes);
  if (cache) await storeWeights(manifest, weights);
  return { text, weights };
}
