// The browser entry of webgan (and of Workers): the wasm module fetched beside the glue
// (wasm/webgan_bg.wasm, found by bundlers through `new URL(…, import.meta.url)`), PNGs from
// an OffscreenCanvas or a canvas element.
import init, { Engine } from './wasm/webgan.js';
import { makeLoadGenerator, once } from './load.js';
import { loadRemote } from './remote.js';

export { Generator } from './generator.js';
export { Images } from './images.js';
export { LoadError } from './errors.js';
export { MAX_WEIGHTS_BYTES, MAX_MANIFEST_BYTES } from './manifest.js';
export { readJsonText } from './download.js';
export { verify as verifyWeights } from './verify.js';

/** `rgba` (width × height × 4 bytes) as a PNG Blob. */
async function encodePng(rgba, width, height) {
  const image = new ImageData(rgba, width, height);
  if (typeof OffscreenCanvas === 'function') {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d').putImageData(image, 0, 0);
    return canvas.convertToBlob({ type: 'image/png' });
  }
  if (typeof document === 'undefined') throw new Error('toBlob needs OffscreenCanvas or a document to encode PNG');
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').putImageData(image, 0, 0);
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the canvas could not encode a PNG'))), 'image/png'));
}

const platform = { Engine, init: once(() => init()), encodePng };
const loadHere = makeLoadGenerator(platform);
const statics = () => platform.init().then(() => Engine);

/** Loads a model (see index.d.ts); `worker: true` runs its engine in a module Worker. */
export function loadGenerator(source, options = {}) {
  if (options?.worker) return loadRemote(source, options, { statics });
  return loadHere(source, options);
}
