// Downloads with fetch: model.json (at most MAX_MANIFEST_BYTES) and the weights, streamed with
// progress into one buffer of the size model.json gives, cut off at the first chunk past it, so
// a server cannot make webgan read (or keep) more than it promised.
import { LoadError, checkAborted } from './errors.js';
import { MAX_MANIFEST_BYTES } from './manifest.js';

const RETRY = 'Check your connection and try again.';

/** The response for `url`, which must be ok; an abort stays an abort. */
export async function get(url, what, signal) {
  let response;
  try {
    response = await fetch(url, { signal });
  } catch (e) {
    checkAborted(signal);
    throw new LoadError(`could not download ${what}: network error (${e.message})`, RETRY, { cause: e });
  }
  if (!response.ok) {
    throw new LoadError(`could not download ${what}: HTTP ${response.status} ${response.statusText} for ${url}`,
      'Check the URL; the server does not have this file (a model folder holds model.json and its weights).');
  }
  return response;
}

/**
 * Reads `response`'s body chunk by chunk, handing each to `onChunk(chunk, offset)`, and returns
 * the byte count. A body longer than `limit` bytes is cancelled at the first chunk past it and
 * `tooLong()` is thrown.
 */
async function readAtMost(response, limit, what, tooLong, onChunk, signal) {
  if (!response.body) return 0; // a null body: no bytes
  const reader = response.body.getReader();
  let loaded = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      checkAborted(signal);
      throw new LoadError(`the download of ${what} broke off after ${loaded} bytes (${e.message})`, RETRY, { cause: e });
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

/** A small JSON file (model.json), at most MAX_MANIFEST_BYTES, as text. */
export async function readJsonText(response, what, signal) {
  const chunks = [];
  const length = await readAtMost(response, MAX_MANIFEST_BYTES, what, () =>
    new LoadError(`${what} is larger than ${MAX_MANIFEST_BYTES} bytes (4 MB), the most webgan reads`, 'Choose another model; this one is not a webgan model.'),
  (chunk) => chunks.push(chunk), signal);
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes); // UTF-8, as response.text()
}

/**
 * The body of `response`, exactly `spec.bytes` long or shorter (verify() reports a short one),
 * in one buffer of that size. `onProgress(loaded, total)` reports bytes.
 */
export async function readWeights(response, spec, onProgress, signal) {
  const expected = spec.bytes; // checked: 1 to MAX_WEIGHTS_BYTES
  const buffer = new Uint8Array(expected);
  onProgress(0, expected);
  const loaded = await readAtMost(response, expected, 'the weights', () =>
    new LoadError(`the server sent more than the ${expected} bytes model.json gives for the weights (${spec.file}), so the download was stopped`,
      'The server holds a wrong weights file for this model; choose another model or fix the folder.'),
  (chunk, at) => {
    buffer.set(chunk, at);
    onProgress(at + chunk.byteLength, expected);
  }, signal);
  return buffer.subarray(0, loaded);
}
