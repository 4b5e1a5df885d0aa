// The dedicated module Worker behind `loadGenerator(source, { worker: true })` (remote.js is the
// page's side): it loads models with the browser entry and runs every engine call here, so the
// CPU backend's seconds of arithmetic never block the page. Messages: { id, op, ... } in,
// { type: 'reply', id, ok, value | error }, { type: 'progress', id, progress } and
// { type: 'lost', gen, reason } out. Canvases arrive once as OffscreenCanvas and are kept by id.
import { loadGenerator } from './browser.js';

const generators = new Map(); // handle → Generator
const images = new Map(); // handle → { images, gen }
const canvases = new Map(); // canvas id → OffscreenCanvas
const loads = new Map(); // request id → AbortController
let nextHandle = 1;

/** An error as plain data (structured clone keeps only message and name of an Error). */
function errorData(e) {
  if (e?.name === 'AbortError' || e instanceof DOMException) return { name: e.name, message: e.message, abort: true };
  return { name: e?.name ?? 'Error', message: String(e?.message ?? e), hint: e?.hint };
}

/** Buffers of typed arrays in `value` to transfer (each one once). */
function transfers(value) {
  return ArrayBuffer.isView(value) ? [value.buffer] : [];
}

function generatorInfo(g) {
  const keys = ['name', 'latentDim', 'numClasses', 'width', 'height', 'channels', 'backend', 'adapter', 'fallbackReason', 'maxCount', 'flopsPerImage'];
  return Object.fromEntries(keys.map((k) => [k, g[k]]));
}

function gen(handle) {
  const g = generators.get(handle);
  if (!g) throw new Error('this generator was disposed; load the model again');
  return g;
}

function img(handle) {
  const entry = images.get(handle);
  if (!entry) throw new Error('these images were disposed');
  return entry.images;
}

/**
 * Resolves once what was drawn is on screen: a worker's OffscreenCanvas commits its frame at the
 * worker's next animation frame (after its callbacks), so a task queued from one runs after it.
 */
function presented() {
  if (typeof requestAnimationFrame !== 'function') return Promise.resolve();
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

const ops = {
  async load(m) {
    const controller = new AbortController();
    loads.set(m.id, controller);
    try {
      const options = { ...m.options, signal: controller.signal };
      if (m.progress) options.onProgress = (progress) => postMessage({ type: 'progress', id: m.id, progress });
      const g = await loadGenerator(m.source, options);
      const handle = nextHandle++;
      generators.set(handle, g);
      g.lost.then((reason) => postMessage({ type: 'lost', gen: handle, reason }));
      return { gen: handle, info: generatorInfo(g) };
    } finally {
      loads.delete(m.id);
    }
  },
  abort(m) {
    loads.get(m.target)?.abort(m.reason);
  },
  async generate(m) {
    const images_ = await gen(m.gen).generate(m.request, m.options);
    const handle = nextHandle++;
    images.set(handle, { images: images_, gen: m.gen });
    return { img: handle };
  },
  realness(m) {
    return gen(m.gen).realness(m.discriminator, img(m.img));
  },
  destroyDevice(m) {
    gen(m.gen).destroyDevice();
  },
  dispose(m) {
    generators.get(m.gen)?.dispose();
    generators.delete(m.gen);
  },
  disposeImages(m) {
    images.get(m.img)?.images.dispose();
    images.delete(m.img);
  },
  floats: (m) => img(m.img).floats(),
  rgba: (m) => img(m.img).rgba(m.index),
  toBlob: (m) => img(m.img).toBlob(m.index),
  gridRgba: (m) => img(m.img).gridRgba(m.options),
  gridToBlob: (m) => img(m.img).gridToBlob(m.options),
  async draw(m) {
    if (m.canvas) canvases.set(m.canvasId, m.canvas);
    const canvas = canvases.get(m.canvasId);
    if (!canvas) throw new Error('this canvas was not handed to the worker');
    await img(m.img).draw(canvas, m.options);
    await presented();
  },
  forgetCanvas(m) {
    canvases.delete(m.canvasId);
  },
};

addEventListener('message', async ({ data: m }) => {
  const op = Object.hasOwn(ops, m?.op) ? ops[m.op] : null;
  if (m?.op === 'abort') return void ops.abort(m);
  try {
    if (!op) throw new Error(`unknown request ${String(m?.op)}`);
    const value = await op(m);
    postMessage({ type: 'reply', id: m.id, ok: true, value }, transfers(value));
  } catch (e) {
    postMessage({ type: 'reply', id: m.id, ok: false, error: errorData(e) });
  }
});
