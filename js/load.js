// loadGenerator for both entries: the model's bytes (from a URL, a folder or memory), the
// WebAssembly module (once, in parallel with the download), then the engine on the chosen
// backend. `platform` is what differs between the browser and Node entries.
import { LoadError, checkAborted, messageOf, quote } from './errors.js';
import { cacheAvailable } from './cache.js';
import { resolveSource } from './source.js';
import { Generator } from './generator.js';
import { checkExpect } from './manifest.js';

const BACKENDS = ['auto', 'webgpu', 'cpu'];

/** `onProgress` made safe to call: a throwing callback must not break the load. */
function reporter(onProgress) {
  if (typeof onProgress !== 'function') return () => {};
  return (phase, loaded, total) => {
    try {
      onProgress({ phase, loaded, total });
    } catch (e) {
      queueMicrotask(() => { throw e; }); // surfaces as an uncaught error, as in an event handler
    }
  };
}

/**
 * The loadGenerator of an entry. `platform`: { Engine, init() → Promise (the wasm module, once),
 * encodePng(rgba, w, h) → Promise<Blob>, resolveBackend?(backend), localPath?(source),
 * readFolder?(path, settings, what) }.
 */
export function makeLoadGenerator(platform) {
  return async function loadGenerator(source, options = {}) {
    const { backend = 'auto', onProgress, signal } = options ?? {};
    if (!BACKENDS.includes(backend)) {
      throw new LoadError(`backend must be 'auto', 'webgpu' or 'cpu', not ${quote(backend)}`, "Pass backend: 'auto' to let webgan choose.");
    }
    const cache = options?.cache ?? cacheAvailable();
    const report = reporter(onProgress);
    checkAborted(signal);
    const wasm = platform.init();
    wasm.catch(() => {}); // awaited below; not unhandled while the download runs
    const expect = checkExpect(options?.expect);
    const { text, weights } = await resolveSource(source, { cache, signal, report, expect }, platform);
    checkAborted(signal);
    report('compile', 0, 2);
    await wasm;
    let engine;
    try {
      engine = await platform.Engine.create(text, weights, platform.resolveBackend?.(backend) ?? backend);
    } catch (e) {
      throw new LoadError(`this model cannot run here: ${messageOf(e)}`, "Choose another model, or try backend: 'cpu'.", { cause: e });
    }
    if (signal?.aborted) {
      engine.free();
      checkAborted(signal);
    }
    report('compile', 1, 2);
    return Generator.create(engine, platform, { cache, report });
  };
}

/** `init` (the wasm-bindgen glue's) run once; a failure may be retried by a later load. */
export function once(init) {
  let loading;
  return () => {
    loading ??= init().catch((e) => {
      loading = undefined;
      throw new LoadError(`could not load the WebAssembly module (${messageOf(e)})`,
        'Reload; if it persists, this runtime may not support WebAssembly or the package is incomplete.', { cause: e });
    });
    return loading;
  };
}
