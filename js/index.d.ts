// The public API of the webgan npm package, for both entries (browser and Node ≥ 20): a
// contract, documented here. Needs TypeScript ≥ 5.7 (typed-array generics, Disposable).
/// <reference lib="dom" />
/// <reference lib="esnext.disposable" />

/** What runs a model: WebGPU compute shaders, or the WebAssembly CPU reference. */
export type Backend = 'webgpu' | 'cpu';

/**
 * The backend to ask for. `'auto'` picks WebGPU where `navigator.gpu` gives an adapter that can
 * hold the model, else the CPU (and says why in {@link Generator.fallbackReason}); `'webgpu'`
 * fails where WebGPU cannot run the model; `'cpu'` never touches the GPU.
 */
export type BackendChoice = 'auto' | Backend;

/** A model given in memory: model.json (its text or parsed object) and the weights file's bytes. */
export interface ModelFiles {
  /** The text of model.json, or the object it parses to. */
  manifest: string | object;
  /** The bytes of the weights file model.json names (safetensors). */
  weights: Uint8Array;
}

/**
 * Where a model comes from: the URL of its folder (a string, resolved against the page, or a
 * `URL`; the folder holds model.json and the weights file), or {@link ModelFiles}. In Node
 * also a folder path or a `file:` URL.
 */
export type ModelSource = string | URL | ModelFiles;

/** One step of a load, for a progress bar. */
export interface LoadProgress {
  /**
   * `'download'`: weights bytes received (or read from disk; all at once from the cache);
   * `'verify'`: the SHA-256 check; `'compile'`: 0 of 2 before the engine is built, 1 when it is
   * (loadGenerator resolves then), 2 once the first generate call has compiled its pipelines.
   */
  phase: 'download' | 'verify' | 'compile';
  /** Done so far: bytes for 'download' and 'verify', steps for 'compile'. */
  loaded: number;
  /** The whole: bytes for 'download' and 'verify', steps (2) for 'compile'. */
  total: number;
}

/** Options of {@link loadGenerator}. */
export interface LoadOptions {
  /** The backend to ask for; default `'auto'`. */
  backend?: BackendChoice;
  /** Called as the load goes on; a throwing callback does not stop it. */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * Keep downloaded weights in the Cache API, keyed by their SHA-256, and load them from there
   * next time. Default: true where the Cache API exists (browsers, secure contexts), else false.
   */
  cache?: boolean;
  /** Aborts the load (downloads and file reads stop); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Browsers: run the engine in a dedicated module Worker (one for all generators loaded so),
   * so a long generate call (the CPU backend) never blocks the page's thread. The Generator and
   * Images keep this API; their calls go to the worker by postMessage. `onProgress` and
   * `signal` work as without it. {@link Images.draw} hands a canvas to the worker once
   * (`transferControlToOffscreen()`): the page can no longer draw on it or get its context
   * itself, and it must not be drawn by a generator loaded without `worker`. A model in
   * memory is copied to the worker. Its objects are not `instanceof` the {@link Generator}
   * and {@link Images} classes exported here. Ignored in Node. Default false.
   */
  worker?: boolean;
  /**
   * The weights the caller expects (e.g. from its own list of models): model.json's
   * `weights.bytes` and `weights.sha256` must equal them, checked before a byte of the weights
   * is downloaded; a mismatch is a {@link LoadError}. `from` names the expectation's source in
   * that message (default "the expected weights (options.expect)"). URL sources only.
   */
  expect?: { bytes?: number; sha256?: string; from?: string };
}

/**
 * Loads a model and builds its engine. Everything from the source is untrusted: model.json is
 * read up to 4 MB, the weights up to the size model.json gives (at most 1 GiB; a longer body is
 * cut off), their SHA-256 is checked, and the engine checks every layer and tensor before use.
 * Rejects with a {@link LoadError} saying what went wrong and what to do.
 */
export function loadGenerator(source: ModelSource, options?: LoadOptions): Promise<Generator>;

/** Images from a seed: `count` latents drawn as `webgan generate --seed` draws them. */
export interface SeedRequest {
  /** A whole number from 0 to 2^53 − 1. */
  seed: number;
  /** Images to make, 1 to {@link Generator.maxCount}; default 1. */
  count?: number;
}

/** Images from given latents. */
export interface LatentsRequest {
  /** `count × latentDim` values, one latent per row. */
  latents: Float32Array;
  /** Images to make; default `latents.length / latentDim`. */
  count?: number;
}

/** What {@link Generator.generate} makes images from. */
export type GenerateRequest = SeedRequest | LatentsRequest;

/** Options of {@link Generator.generate}. */
export interface GenerateOptions {
  /** Conditional models: one class for all images, or one per image (0 to numClasses − 1). */
  classes?: Uint32Array | number;
}

/** A grid of tiles, 2 px apart, as `webgan generate --out grid.png` lays them out. */
export interface GridOptions {
  /** Tiles per row; default the most nearly square grid (⌈√count⌉). */
  columns?: number;
}

/** Options of {@link Images.draw}. */
export interface DrawOptions {
  /** The grid layout; default the most nearly square grid. */
  grid?: GridOptions;
  /** Whole-number upscaling (nearest); default 1. */
  scale?: number;
}

/** A model loaded on one backend. Calls queue in order; none fails for being busy. */
export declare class Generator implements Disposable {
  private constructor();
  /** The model's name from model.json. */
  readonly name: string;
  /** Values per latent. */
  readonly latentDim: number;
  /** Classes of a conditional model; 0 for an unconditional one. */
  readonly numClasses: number;
  /** Image width in pixels. */
  readonly width: number;
  /** Image height in pixels. */
  readonly height: number;
  /** Channels per image: 1 (grey) or 3 (RGB). */
  readonly channels: number;
  /** The backend it runs on. */
  readonly backend: Backend;
  /** What runs it: `"WebGPU: <adapter> (…)"` or `"CPU fallback: <why>"`. */
  readonly adapter: string;
  /** Why 'auto' fell back to the CPU, where it did. */
  readonly fallbackReason: string | undefined;
  /** The most images one generate call makes. */
  readonly maxCount: number;
  /** Floating-point operations per image. */
  readonly flopsPerImage: number;
  /**
   * Resolves with the reason once the GPU device is lost (after which every call fails: load
   * the model again). Never resolves on the CPU backend.
   */
  readonly lost: Promise<string>;
  /** Generates images; no canvas is needed. */
  generate(request: GenerateRequest, options?: GenerateOptions): Promise<Images>;
  /** `count × latentDim` latents of `seed`, the same numbers as `webgan generate --seed`. */
  latents(seed: number, count: number): Float32Array<ArrayBuffer>;
  /** Spherical interpolation between latents `a` and `b`, row by row; `t` in [0, 1]. */
  slerp(a: Float32Array, b: Float32Array, t: number): Float32Array<ArrayBuffer>;
  /**
   * One logit per image (higher: more like the training data) from the discriminator trained
   * with this generator: given in memory or as the URL (Node: also the path) of its folder,
   * loaded once and run on this generator's backend.
   */
  realness(discriminator: ModelSource, images: Images): Promise<Float32Array<ArrayBuffer>>;
  /** For tests: destroys the GPU device, as a lost device; {@link lost} resolves. */
  destroyDevice(): void;
  /** Frees the engine (after calls already queued end); later calls fail. */
  dispose(): void;
  [Symbol.dispose](): void;
}

/** The images of one generate call; they stay valid after later calls. */
export declare class Images implements Disposable {
  private constructor();
  /** Images held. */
  readonly count: number;
  /** Channels per image: 1 or 3. */
  readonly channels: number;
  /** Width of one image in pixels. */
  readonly width: number;
  /** Height of one image in pixels. */
  readonly height: number;
  /** All images as `[count, channels, height, width]` (NCHW) values in [-1, 1]. */
  floats(): Promise<Float32Array<ArrayBuffer>>;
  /** Image `index` as RGBA bytes (width × height × 4), the pixels of `webgan generate --out x.png`. */
  rgba(index: number): Promise<Uint8ClampedArray<ArrayBuffer>>;
  /** Image `index` as ImageData (where the ImageData global exists: browsers and Workers). */
  imageData(index: number): Promise<ImageData>;
  /** Image `index` as a PNG (OffscreenCanvas or a canvas in browsers, node:zlib in Node). */
  toBlob(index: number): Promise<Blob>;
  /** The pixel size of the grid of all images. */
  gridSize(options?: GridOptions): { columns: number; width: number; height: number };
  /** All images in a grid as RGBA bytes (`gridSize().width × height × 4`). */
  gridRgba(options?: GridOptions): Promise<Uint8ClampedArray<ArrayBuffer>>;
  /** All images in a grid as ImageData. */
  gridImageData(options?: GridOptions): Promise<ImageData>;
  /** All images in a grid as a PNG. */
  gridToBlob(options?: GridOptions): Promise<Blob>;
  /**
   * Draws the grid onto `canvas` (resized to fit): straight from the GPU on WebGPU (the canvas
   * then holds a 'webgpu' context), through a 2D context on the CPU backend.
   */
  draw(canvas: HTMLCanvasElement | OffscreenCanvas, options?: DrawOptions): Promise<void>;
  /** Frees the images; later reads fail. */
  dispose(): void;
  [Symbol.dispose](): void;
}

/** An error loading a model, with a hint saying what to do about it. */
export declare class LoadError extends Error {
  /** What to do about it, for people. */
  readonly hint: string;
}

/** The largest weights file webgan loads, in bytes (1 GiB). */
export declare const MAX_WEIGHTS_BYTES: number;
/** The largest model.json webgan reads, in bytes (4 MB). */
export declare const MAX_MANIFEST_BYTES: number;

/**
 * Reads a small JSON response (a `model.json`, a list of models) as text, at most
 * {@link MAX_MANIFEST_BYTES}: a longer body is cancelled at the first byte past it and the
 * promise rejects with a {@link LoadError}. `what` names the file in errors. For apps that list
 * or inspect models before loading one.
 */
export function readJsonText(response: Response, what: string, signal?: AbortSignal): Promise<string>;

/**
 * Why `bytes` are not the weights that `weights` (a `model.json`'s `weights`: its `bytes` and
 * `sha256`) describes, as one sentence, or `null` when they are: the size, then the SHA-256
 * where Web Crypto exists. For apps that read weights themselves (a dropped file, say) before
 * handing them to {@link loadGenerator}, which checks them again.
 */
export function verifyWeights(bytes: Uint8Array, weights: { bytes: number; sha256: string }): Promise<string | null>;
