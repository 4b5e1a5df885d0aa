// The page's side of `loadGenerator(source, { worker: true })`: a Generator and Images with the
// API of generator.js and images.js whose engine calls run in worker.js (one module Worker for
// all of them, started on first use). What is synchronous in the API stays so: the model's
// facts come with the load, latents and slerp run on this thread's copy of the wasm module,
// grid sizes are computed here. A canvas is handed over once (transferControlToOffscreen).
import { LoadError } from './errors.js';
import { squareColumns, DISPOSE } from './images.js';

const TOKEN = Symbol('webgan.RemoteGenerator');
const GAP = 2; // px between tiles (src/image.rs GRID_GAP)
let worker;
let nextId = 1;
let nextCanvas = 1;
const pending = new Map(); // id → { resolve, reject }
const progress = new Map(); // id of a load → onProgress, for the generator's life ('compile' 2 of 2 comes later)
const lostHandlers = new Map(); // generator handle → (reason) => void
const canvasIds = new WeakMap(); // canvas → id in the worker

function errorFrom(data) {
  if (data.abort) return new DOMException(data.message, data.name);
  if (data.name === 'LoadError') return new LoadError(data.message, data.hint);
  const Kind = { TypeError, RangeError }[data.name] ?? Error;
  return new Kind(data.message);
}

function start() {
  if (worker) return worker;
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'webgan' });
  worker.addEventListener('message', ({ data: m }) => {
    if (m.type === 'lost') return void lostHandlers.get(m.gen)?.(m.reason);
    if (m.type === 'progress') return void progress.get(m.id)?.(m.progress);
    const call = pending.get(m.id);
    if (!call) return;
    pending.delete(m.id);
    if (m.ok) call.resolve(m.value);
    else call.reject(errorFrom(m.error));
  });
  worker.addEventListener('error', (event) => {
    const e = new LoadError(`the webgan worker failed (${event.message ?? 'it could not start'})`,
      'Reload; if it persists, this browser may not run module Workers (use worker: false).');
    for (const call of pending.values()) call.reject(e);
    pending.clear();
    worker = undefined; // a later call starts a new one
  });
  return worker;
}

/** Sends `message` to the worker; resolves with its reply. */
function call(message, transfer = [], id = nextId++) {
  const w = start();
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ ...message, id }, transfer);
  });
}

/** loadGenerator(source, { worker: true, ... }); `platform.latents`/`slerp` are the wasm statics. */
export async function loadRemote(source, options, platform) {
  const { onProgress, signal, worker: _, ...rest } = options;
  if (signal?.aborted) throw signal.reason ?? new DOMException('the load was aborted', 'AbortError');
  const statics = platform.statics(); // this thread's wasm, for latents and slerp
  statics.catch(() => {});
  const id = nextId++; // the load's, for its progress and abort messages
  const report = typeof onProgress !== 'function' ? undefined : (p) => {
    try {
      onProgress(p);
    } catch (e) {
      queueMicrotask(() => { throw e; });
    }
  };
  const onAbort = () => start().postMessage({ op: 'abort', target: id, reason: signal.reason });
  signal?.addEventListener('abort', onAbort, { once: true });
  if (report) progress.set(id, report);
  let reply;
  try {
    reply = await call({ op: 'load', source: plainSource(source), options: rest, progress: !!report }, [], id);
  } catch (e) {
    progress.delete(id);
    if (signal?.aborted) throw signal.reason ?? e;
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const engine = await statics;
  if (signal?.aborted) {
    progress.delete(id);
    call({ op: 'dispose', gen: reply.gen }).catch(() => {});
    throw signal.reason;
  }
  return new RemoteGenerator(TOKEN, reply.gen, reply.info, engine, () => progress.delete(id));
}

/**
 * Sources cross as strings or { manifest, weights }: a URL resolved against this page (the
 * worker's own location is the package's folder), a URL object as its href.
 */
function plainSource(source) {
  if (source instanceof URL) return source.href;
  if (typeof source === 'string') {
    try {
      return new URL(source, globalThis.location?.href).href;
    } catch {
      return source; // the worker's loader says what is wrong with it
    }
  }
  if (source === null || typeof source !== 'object') return source;
  return { manifest: source.manifest, weights: source.weights };
}

export class RemoteGenerator {
  #handle;
  #engine;
  #lostReason = null;
  #disposed = false;
  #forget;

  constructor(token, handle, info, engine, forget) {
    if (token !== TOKEN) throw new TypeError('use loadGenerator() to make a Generator');
    this.#handle = handle;
    this.#engine = engine;
    this.#forget = forget;
    Object.defineProperties(this, Object.fromEntries(Object.entries(info).map(([k, v]) => [k, { value: v, enumerable: true }])));
    let resolveLost;
    this.lost = new Promise((resolve) => { resolveLost = resolve; });
    lostHandlers.set(handle, (reason) => {
      if (this.#lostReason !== null) return;
      this.#lostReason = reason;
      resolveLost(reason);
    });
  }

  #live() {
    if (this.#disposed) throw new Error('this generator was disposed; load the model again');
    if (this.#lostReason !== null) throw new Error(`the GPU device was lost (${this.#lostReason}); load the model again`);
  }

  #whole(value, what, min, max) {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new RangeError(`${what} must be a whole number from ${min} to ${max}, not ${String(value)}`);
    }
  }

  latents(seed, count) {
    this.#live();
    this.#whole(seed, 'seed', 0, Number.MAX_SAFE_INTEGER);
    this.#whole(count, 'count', 1, 0xffffffff);
    return this.#engine.latents(seed, count, this.latentDim);
  }

  slerp(a, b, t) {
    this.#live();
    if (!(a instanceof Float32Array) || !(b instanceof Float32Array)) {
      throw new TypeError('slerp(a, b, t) takes two Float32Array latents (rows of latentDim values)');
    }
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new RangeError(`slerp's t must be a finite number, not ${String(t)}`);
    return this.#engine.slerp(a, b, t, this.latentDim);
  }

  /** A worker call on this generator; a device lost meanwhile is reported as that. */
  async #call(message, transfer) {
    this.#live();
    try {
      return await call({ ...message, gen: this.#handle }, transfer);
    } catch (e) {
      if (this.#lostReason !== null) throw new Error(`the GPU device was lost (${this.#lostReason}); load the model again`);
      throw e;
    }
  }

  async generate(request, options = {}) {
    this.#live();
    if (request === null || typeof request !== 'object') {
      throw new TypeError(`generate() takes { seed, count } or { latents, count }, not ${String(request)}`);
    }
    const { img } = await this.#call({ op: 'generate', request: { ...request }, options: options ?? {} });
    const count = request.count ?? (request.latents ? Math.max(1, Math.floor(request.latents.length / this.latentDim)) : 1);
    return new RemoteImages(TOKEN, img, this, (m, t) => this.#call(m, t), { count, channels: this.channels, width: this.width, height: this.height });
  }

  async realness(discriminator, images) {
    if (!(images instanceof RemoteImages) || RemoteImages.ownerOf(images) !== this) {
      throw new TypeError('realness(discriminator, images) takes the Images of a generate() call of this generator');
    }
    return this.#call({ op: 'realness', discriminator: plainSource(discriminator), img: RemoteImages.handleOf(images) });
  }

  destroyDevice() {
    this.#live();
    start().postMessage({ op: 'destroyDevice', gen: this.#handle, id: 0 });
    lostHandlers.get(this.#handle)?.('destroyDevice() was called');
  }

  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    call({ op: 'dispose', gen: this.#handle }).catch(() => {});
    lostHandlers.delete(this.#handle);
    this.#forget();
  }

  [DISPOSE]() {
    this.dispose();
  }
}

export class RemoteImages {
  #handle;
  #owner;
  #call;
  #shape;
  #disposed = false;

  constructor(token, handle, owner, callOnOwner, shape) {
    if (token !== TOKEN) throw new TypeError('Images are made by Generator.generate()');
    this.#handle = handle;
    this.#owner = owner;
    this.#call = callOnOwner;
    this.#shape = shape;
  }

  static ownerOf(images) { return images.#owner; }
  static handleOf(images) { return images.#live(); }

  #live() {
    if (this.#disposed) throw new Error('these images were disposed');
    return this.#handle;
  }

  #ask(message) {
    return this.#call({ ...message, img: this.#live() });
  }

  #index(index) {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new RangeError(`image index ${String(index)} is out of range: these are ${this.count} images (0 to ${this.count - 1})`);
    }
    return index;
  }

  get count() { return this.#shape.count; }
  get channels() { return this.#shape.channels; }
  get width() { return this.#shape.width; }
  get height() { return this.#shape.height; }

  floats() { return this.#ask({ op: 'floats' }); }
  async rgba(index) { return this.#ask({ op: 'rgba', index: this.#index(index) }); }
  async imageData(index) { return new ImageData(await this.rgba(index), this.width, this.height); }
  async toBlob(index) { return this.#ask({ op: 'toBlob', index: this.#index(index) }); }

  gridSize(options) {
    this.#live();
    const columns = options?.columns ?? squareColumns(this.count);
    if (!Number.isSafeInteger(columns) || columns < 1 || columns > 0xffffffff) {
      throw new RangeError(`grid columns must be a whole number of at least 1, not ${String(columns)}`);
    }
    const used = Math.min(columns, this.count);
    const rows = Math.ceil(this.count / used);
    return { columns, width: used * this.width + (used - 1) * GAP, height: rows * this.height + (rows - 1) * GAP };
  }

  gridRgba(options) { return this.#ask({ op: 'gridRgba', options: options ?? {} }); }
  async gridImageData(options) {
    const { width, height } = this.gridSize(options);
    return new ImageData(await this.gridRgba(options), width, height);
  }
  gridToBlob(options) { return this.#ask({ op: 'gridToBlob', options: options ?? {} }); }

  async draw(canvas, options = {}) {
    if (!canvas || (typeof canvas.getContext !== 'function' && typeof canvas.transferControlToOffscreen !== 'function')) {
      throw new TypeError('draw() takes an HTMLCanvasElement or an OffscreenCanvas');
    }
    let canvasId = canvasIds.get(canvas);
    const message = { op: 'draw', options: { grid: options.grid, scale: options.scale } };
    const transfer = [];
    if (canvasId === undefined) {
      canvasId = nextCanvas++;
      const offscreen = typeof canvas.transferControlToOffscreen === 'function' ? canvas.transferControlToOffscreen() : canvas;
      message.canvas = offscreen;
      transfer.push(offscreen);
      canvasIds.set(canvas, canvasId);
    }
    await this.#call({ ...message, canvasId, img: this.#live() }, transfer);
  }

  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#call({ op: 'disposeImages', img: this.#handle }).catch(() => {});
  }

  [DISPOSE]() {
    this.dispose();
  }
}
