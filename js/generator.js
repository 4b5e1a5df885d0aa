// A loaded model on one backend: a thin layer over the engine's Engine handle. It turns the
// package's request objects into the engine's arguments, keeps discriminators loaded once,
// and notices device loss. Validation, limits, chunking and queueing are the engine's.
import { LoadError, messageOf, quote, toError } from './errors.js';
import { Images, DISPOSE } from './images.js';
import { resolveSource } from './source.js';

const TOKEN = Symbol('webgan.Generator');

function wholeNumber(value, what, min, max) {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be a whole number from ${min} to ${max}, not ${quote(value)}`);
  }
  return value;
}

export class Generator {
  #engine;
  #platform;
  #settings;
  #critics = new Map();
  #criticsByObject = new WeakMap();
  #allCritics = new Set();
  #inFlight = 0;
  #disposed = false;
  #freed = false;
  #lostReason = null;
  #resolveLost;
  #compiled = false;
  #context;

  /**
   * Made by loadGenerator only. `settings`: { cache, report(phase, loaded, total) }.
   */
  constructor(token, engine, platform, settings) {
    if (token !== TOKEN) throw new TypeError('use loadGenerator() to make a Generator');
    this.#engine = engine;
    this.#platform = platform;
    this.#settings = settings;
    /** Resolves with the reason once the GPU device is lost; never on the CPU backend. */
    this.lost = new Promise((resolve) => { this.#resolveLost = resolve; });
    this.#context = { token: TOKEN, guard: (call) => this.#guard(call), encodePng: platform.encodePng };
  }

  /** For loadGenerator. */
  static create(engine, platform, settings) {
    return new Generator(TOKEN, engine, platform, settings);
  }

  #live() {
    if (this.#disposed) throw new Error('this generator was disposed; load the model again');
    if (this.#lostReason !== null) throw new Error(`the GPU device was lost (${this.#lostReason}); load the model again`);
    return this.#engine;
  }

  #markLost(reason) {
    if (this.#lostReason !== null) return;
    this.#lostReason = reason;
    this.#resolveLost(reason);
  }

  /** Runs an engine call, counting it in flight, and turns a failure on a lost device into that. */
  async #guard(call) {
    if (this.#lostReason !== null) throw new Error(`the GPU device was lost (${this.#lostReason}); load the model again`);
    this.#inFlight += 1;
    try {
      return await call();
    } catch (e) {
      let lost = false;
      try {
        lost = !this.#freed && this.#engine.isLost();
      } catch {
        // a freed or broken handle: report the call's own error
      }
      if (lost) {
        this.#markLost(messageOf(e));
        throw new Error(`the GPU device was lost (${messageOf(e)}); load the model again`);
      }
      throw toError(e);
    } finally {
      this.#inFlight -= 1;
      if (this.#disposed && this.#inFlight === 0) this.#free();
    }
  }

  get name() { return this.#engine.name; }
  get latentDim() { return this.#engine.latentDim; }
  get numClasses() { return this.#engine.numClasses; }
  get width() { return this.#engine.width; }
  get height() { return this.#engine.height; }
  get channels() { return this.#engine.channels; }
  get backend() { return this.#engine.backend; }
  get adapter() { return this.#engine.adapter; }
  get fallbackReason() { return this.#engine.fallbackReason; }
  get maxCount() { return this.#engine.maxCount; }
  get flopsPerImage() { return this.#engine.flopsPerImage; }

  latents(seed, count) {
    const engine = this.#live();
    wholeNumber(seed, 'seed', 0, Number.MAX_SAFE_INTEGER);
    wholeNumber(count, 'count', 1, 0xffffffff);
    return this.#platform.Engine.latents(seed, count, engine.latentDim);
  }

  slerp(a, b, t) {
    const engine = this.#live();
    if (!(a instanceof Float32Array) || !(b instanceof Float32Array)) {
      throw new TypeError('slerp(a, b, t) takes two Float32Array latents (rows of latentDim values)');
    }
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new RangeError(`slerp's t must be a finite number, not ${quote(t)}`);
    return this.#platform.Engine.slerp(a, b, t, engine.latentDim);
  }

  #request(request) {
    const engine = this.#live();
    if (request === null || typeof request !== 'object') {
      throw new TypeError(`generate() takes { seed, count } or { latents, count }, not ${quote(request)}`);
    }
    if (request.latents !== undefined) {
      if (!(request.latents instanceof Float32Array)) {
        throw new TypeError('latents must be a Float32Array of count × latentDim values');
      }
      const count = request.count ?? Math.max(1, Math.floor(request.latents.length / engine.latentDim));
      wholeNumber(count, 'count', 1, engine.maxCount);
      return { latents: request.latents, count };
    }
    if (request.seed !== undefined) {
      const count = wholeNumber(request.count ?? 1, 'count', 1, engine.maxCount);
      return { latents: this.latents(request.seed, count), count };
    }
    throw new TypeError('generate() takes { seed, count } or { latents, count }');
  }

  #classes(classes, count) {
    if (classes === undefined || classes instanceof Uint32Array) return classes;
    if (typeof classes === 'number') {
      wholeNumber(classes, 'the class', 0, 0xffffffff);
      return new Uint32Array(count).fill(classes);
    }
    throw new TypeError(`classes must be a class index or a Uint32Array of one per image, not ${quote(classes)}`);
  }

  async generate(request, options = {}) {
    const engine = this.#live();
    const { latents, count } = this.#request(request);
    const classes = this.#classes(options?.classes, count);
    const first = !this.#compiled;
    const output = await this.#guard(() => engine.generate(latents, count, classes));
    if (first && !this.#compiled) {
      this.#compiled = true; // the first call built its plan: the pipelines are compiled
      this.#settings.report('compile', 2, 2);
    }
    return new Images(TOKEN, output, this, this.#context);
  }

  /** The engine's Critic for `discriminator`, loaded once per URL (or per object). */
  #critic(discriminator) {
    const byKey = typeof discriminator === 'string' || discriminator instanceof URL;
    const key = byKey ? String(discriminator) : discriminator;
    if (!byKey && (discriminator === null || typeof discriminator !== 'object')) {
      throw new TypeError(`realness() takes a discriminator as { manifest, weights } or the URL of its folder, not ${quote(discriminator)}`);
    }
    const known = byKey ? this.#critics.get(key) : this.#criticsByObject.get(key);
    if (known) return known;
    const loading = (async () => {
      const { text, weights } = await resolveSource(discriminator,
        { cache: this.#settings.cache, signal: undefined, report: () => {} }, this.#platform, 'the discriminator');
      const engine = this.#live();
      try {
        return engine.critic(text, weights);
      } catch (e) {
        throw new LoadError(`this discriminator cannot score this generator's images: ${messageOf(e)}`,
          'Use the discriminator trained with this generator (its discriminator/ folder).');
      }
    })();
    const forget = () => {
      this.#allCritics.delete(loading);
      if (byKey) this.#critics.delete(key);
      else this.#criticsByObject.delete(key);
    };
    loading.catch(forget);
    this.#allCritics.add(loading);
    if (byKey) this.#critics.set(key, loading);
    else this.#criticsByObject.set(key, loading);
    return loading;
  }

  async realness(discriminator, images) {
    this.#live();
    if (!(images instanceof Images) || Images.ownerOf(images) !== this) {
      throw new TypeError('realness(discriminator, images) takes the Images of a generate() call of this generator');
    }
    const critic = await this.#critic(discriminator);
    return this.#guard(() => critic.realness(Images.outputOf(images)));
  }

  /** For tests of device loss: destroys the GPU device; `lost` resolves and later calls fail. */
  destroyDevice() {
    this.#live().destroyDevice();
    this.#markLost('destroyDevice() was called');
  }

  #free() {
    if (this.#freed) return;
    this.#freed = true;
    for (const loading of this.#allCritics) loading.then((critic) => critic.free(), () => {});
    this.#allCritics.clear();
    this.#critics.clear();
    this.#engine.free();
  }

  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#inFlight === 0) this.#free(); // else when the last queued call ends
  }

  [DISPOSE]() {
    this.dispose();
  }
}
