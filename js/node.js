// The Node (≥ 20) entry of webgan: the same API as the browser's, with the wasm module read
// from the package folder, sources that may be a folder path or a file: URL, and PNGs encoded
// with node:zlib. Without navigator.gpu (plain Node), 'auto' runs on the CPU backend.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import init, { Engine } from './wasm/webgan.js';
import { makeLoadGenerator, once } from './load.js';
import { readFolder } from './files.js';
import { encodePng } from './png.js';

export { Generator } from './generator.js';
export { Images } from './images.js';
export { LoadError } from './errors.js';
export { MAX_WEIGHTS_BYTES, MAX_MANIFEST_BYTES } from './manifest.js';
export { readJsonText } from './download.js';
export { verify as verifyWeights } from './verify.js';

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** The local path `source` names (a path, or a file: URL), or null for an http(s) URL. */
function localPath(source) {
  if (source instanceof URL) return source.protocol === 'file:' ? fileURLToPath(source) : null;
  if (SCHEME.test(source)) return source.startsWith('file:') ? fileURLToPath(source) : null;
  return source;
}

async function initFromFile() {
  const bytes = await readFile(new URL('./wasm/webgan_bg.wasm', import.meta.url));
  return init({ module_or_path: bytes });
}

/** Loads a model (see index.d.ts). */
export const loadGenerator = makeLoadGenerator({ Engine, init: once(initFromFile), encodePng, localPath, readFolder });
