// The demo page: load a model, draw a seeded grid, walk the latent space, download PNGs.
// Everything numeric (latents, slerp, inference, drawing) happens in the npm package's engine,
// in a Worker (loadGenerator's `worker: true`: the CPU fallback never freezes the page); this
// file only wires controls, the URL and the loading UI to it; ownmodel.js opens a model of the
// visitor's (?src=, drag and drop), keyboard.js selects tiles from the keyboard, walk.js walks
// the latent space, status.js shows the state and progress.
import { loadGenerator } from './pkg/browser.js';
import { LoadError, fetchGallery, fetchManifest } from './load.js';
import { OWN, fetchOwnModel, installDropZone, offerInPicker, readDroppedModel, sourceUrl } from './ownmodel.js';
import { installKeyboard } from './keyboard.js';
import { downloadGrid as saveGrid, downloadOne as saveOne } from './download.js';
import { clearError, setState, showPhase, showProgress } from './status.js';
import { createWalk } from './walk.js';

const $ = (id) => document.getElementById(id);
const MAX_BATCH = 64;
const MAX_SEED = 2 ** 53;
const params = new URLSearchParams(location.search);

const app = {
  gallery: null,
  entry: null, // the gallery entry of the model in use (an entry made from model.json for OWN)
  own: null, // { entry, source } of the visitor's model (?src= or dropped)
  source: null, // what loadGenerator loads (again after a device loss): a folder URL or { manifest, weights }
  expect: undefined, // the gallery's { bytes, sha256 } of the weights
  discriminator: null, // the URL of the model's discriminator folder, when the gallery lists one
  generator: null, // the package's Generator
  images: null, // the package's Images on the canvas
  view: null, // the grid on the canvas: { count, columns, scale, width, height } (see layout())
  lost: false, // the generator's `lost` promise has resolved
  cpuReason: null, // why the page chose the CPU itself (the device was lost twice)
  canvas: null,
  seed: wholeNumber(params.get('seed'), 1, 0, MAX_SEED),
  batch: wholeNumber(params.get('batch'), 16, 1, MAX_BATCH),
  cls: wholeNumber(params.get('class'), 0, 0, 1e9),
  backend: ['auto', 'webgpu', 'cpu'].includes(params.get('backend')) ? params.get('backend') : 'auto',
  latents: null, // Float32Array [batch, latentDim] on the canvas now
  realness: null, // discriminator logits of the canvas images after "Sort by realness"
  selected: 0,
  updateTiles: () => {}, // the canvas's selection mark and aria-label (keyboard.js)
  // frames, startedAt, framesAtStart and lastFrameAt give the walk's frame rate.
  walk: { running: false, from: null, to: null, t: 0, leg: 0, speed: 0.25, last: 0, frames: 0, startedAt: 0, framesAtStart: 0, lastFrameAt: 0 },
  timings: { firstImageMs: null, weightsMs: null, weightsFromCache: null, lastFrameMs: null },
};

function wholeNumber(text, fallback, min, max) {
  const v = Number(text);
  return text !== null && text !== '' && Number.isInteger(v) && v >= min && v <= max ? v : fallback;
}

// ---- status, errors, progress ----

function showError(e) {
  const raw = e?.message ?? String(e);
  const message = raw.charAt(0).toUpperCase() + raw.slice(1);
  const hint = e?.hint ?? (app.generator ? 'Try again, or reload the page.' : 'Reload the page.');
  $('error-message').textContent = message.endsWith('.') ? message : `${message}.`;
  $('error-hint').textContent = hint;
  $('error').hidden = false;
  $('progress').hidden = true;
  setState('error');
  console.error(e);
}

// ---- serialised engine calls ----

let queue = Promise.resolve();
/** Runs `fn` after every earlier engine call has finished: the generator takes one at a time. */
function exclusive(fn) {
  const next = queue.then(fn);
  queue = next.catch(() => {});
  return next;
}

// ---- model and generator ----

async function loadModel(id) {
  stopWalk();
  if (id === OWN && app.own) return useModel(app.own);
  const entry = app.gallery.models.find((m) => m.id === id);
  if (!entry) {
    throw new LoadError(`there is no model "${id}" on this site`, `Choose one of: ${app.gallery.models.map((m) => m.id).join(', ')}.`);
  }
  app.entry = entry;
  $('model').value = entry.id;
  const modelUrl = new URL(entry.path, new URL('models/', location.href));
  // The gallery entry's size and SHA-256 must match the manifest's (checked before the download,
  // here for the page's messages and again by the package through `expect`).
  await fetchManifest(modelUrl, entry);
  let discriminator = null;
  if (entry.discriminator) {
    discriminator = new URL(entry.discriminator.path, new URL('models/', location.href));
    await fetchManifest(discriminator, entry.discriminator);
  }
  const expect = { bytes: entry.size, sha256: entry.sha256, from: 'the model list (models/index.json)' };
  await useModel({ entry, source: modelUrl.href, expect, discriminator: discriminator?.href });
}

/** Makes `model` ({ entry, source, expect?, discriminator? }) the page's model. */
async function useModel(model) {
  app.entry = model.entry;
  $('model').value = model.entry.id;
  Object.assign(app, { source: model.source, expect: model.expect, discriminator: model.discriminator ?? null });
  await exclusive(() => makeGenerator(undefined, true));
  // The first generate builds the plan: pipelines, i.e. compiling every WGSL kernel (seconds on
  // a software GPU). draw() hides the progress when that first image is on the canvas.
  showPhase(app.generator.backend === 'webgpu'
    ? 'compiling the GPU kernels (WGSL shaders) for this model…'
    : 'preparing the model on the CPU (WebAssembly)…');
  describeModel();
}

/** Keeps the visitor's model (to switch back to) and lists it first in the picker. */
function offerOwn(own) {
  app.own = own;
  offerInPicker($('model'), own.entry);
}

/** Opens model.json and its weights dropped onto the page (`files`: a promise of File[]). */
async function openDropped(files) {
  stopWalk();
  setState('loading');
  clearError();
  showPhase('reading the dropped files…');
  offerOwn(await readDroppedModel(await files));
  await loadModel(OWN);
  await regenerate();
}

/** The progress of loadGenerator on the page; `timed` records the weights' timings. */
function progress(timed) {
  const t0 = performance.now();
  let fromCache = null;
  return ({ phase, loaded, total }) => {
    if (phase === 'download') {
      fromCache ??= loaded === total && total > 0; // the cache hands all the bytes at once
      showProgress(loaded, total, fromCache);
    } else if (phase === 'verify' && loaded === total && timed) {
      app.timings.weightsMs = performance.now() - t0;
      app.timings.weightsFromCache = fromCache;
    } else if (phase === 'compile' && loaded === 0) {
      showPhase('weights checked; starting the engine…');
    }
  };
}

/** A new generator on a new canvas (also the recovery after a lost GPU device). */
async function makeGenerator(cpuReason = undefined, timed = false) {
  app.images?.dispose();
  app.generator?.dispose();
  app.generator = app.images = app.view = null;
  app.cpuReason = cpuReason ?? null;
  const canvas = document.createElement('canvas');
  canvas.id = 'canvas';
  canvas.width = canvas.height = 1;
  canvas.addEventListener('click', onCanvasClick);
  $('canvas-slot').replaceChildren(canvas);
  app.canvas = canvas;
  app.updateTiles = installKeyboard(canvas, app, selectImage, () => (app.walk.running ? stopWalk() : startWalk()));
  const g = await loadGenerator(app.source, {
    worker: true, backend: cpuReason ? 'cpu' : app.backend, expect: app.expect, onProgress: progress(timed),
  });
  app.generator = g;
  app.lost = false;
  g.lost.then(() => { if (app.generator === g) app.lost = true; });
  showRealness(null);
  $('adapter').textContent = g.adapter;
  $('notice').hidden = g.backend !== 'cpu';
  if (g.backend === 'cpu') {
    $('notice').textContent =
      `WebGPU is not available: ${app.cpuReason ?? g.fallbackReason}. The images are computed on the CPU in WebAssembly instead: the same images, usually much more slowly than on a GPU. ` +
      'For the GPU path use a browser with WebGPU enabled (Chrome, Edge, or recent Safari and Firefox).';
  }
}

function describeModel() {
  const e = app.entry;
  const g = app.generator;
  const from = e.origin ? ` (${e.origin === 'dropped' ? 'dropped files' : e.origin})` : '';
  $('model-info').textContent =
    `${e.name}${from}: ${g.width}×${g.height}, latent ${g.latentDim}, ${(g.flopsPerImage / 1e9).toFixed(2)} GFLOP per image, ` +
    `${(e.size / 1e6).toFixed(1)} MB ${e.dtype ?? ''} weights. ${e.description}`;
  $('license').textContent = `Model license: ${e.license} Source: ${e.source}`;
  $('realness-controls').hidden = !app.discriminator;
  const classes = g.numClasses;
  $('class-label').hidden = classes === 0;
  if (classes > 0) {
    const names = e.class_names ?? [];
    $('class').replaceChildren(
      ...Array.from({ length: classes }, (_, k) => new Option(names[k] ? `${k}: ${names[k]}` : `class ${k}`, k)),
    );
    app.cls = Math.min(app.cls, classes - 1);
    $('class').value = app.cls;
  }
}

function classes() {
  return app.generator.numClasses > 0 ? new Uint32Array(app.batch).fill(app.cls) : undefined;
}

/** The grid of `count` tiles of the model (the engine's layout: ⌈√count⌉ columns, 2 px gaps). */
function layout(count, scale = 1) {
  const g = app.generator;
  const columns = Math.max(1, Math.ceil(Math.sqrt(count)));
  const rows = Math.ceil(count / columns);
  const used = Math.min(columns, count);
  return { count, columns, rows, scale, width: used * g.width + (used - 1) * 2, height: rows * g.height + (rows - 1) * 2 };
}

function scaleFor(count) {
  const grid = layout(count);
  const width = Math.max(256, $('stage').clientWidth || innerWidth - 40);
  const height = Math.max(256, innerHeight - 160);
  const s = Math.min(Math.floor(width / grid.width), Math.floor(height / grid.height), 8);
  return Math.max(1, s);
}

/**
 * Generates `z` (latents, or a function of the generator in use that makes them: a lost
 * generator makes none) with the generator in use and draws it on the canvas; returns the latents.
 */
async function generateAndDraw(latents) {
  const g = app.generator;
  const z = typeof latents === 'function' ? latents(g) : latents;
  const scale = scaleFor(app.batch);
  const images = await g.generate({ latents: z, count: app.batch }, { classes: classes() });
  try {
    await images.draw(app.canvas, { scale });
  } catch (e) {
    images.dispose();
    throw e;
  }
  app.images?.dispose();
  app.images = images;
  app.view = layout(images.count, scale);
  return z;
}

/** Generates and draws `latents` ([batch, latentDim], or a function of the generator that makes them); recreates the generator once on device loss. */
function draw(latents) {
  return exclusive(async () => {
    const t0 = performance.now();
    let z;
    try {
      z = await generateAndDraw(latents);
    } catch (e) {
      if (!app.lost) throw e;
      // Recreate once on the GPU; a device lost again at once (a broken driver, or a browser
      // that cannot present WebGPU canvases) falls back to the CPU rather than failing.
      await makeGenerator();
      try {
        z = await generateAndDraw(latents);
        $('notice').hidden = false;
        $('notice').textContent = 'The GPU device was lost (a driver reset, or the GPU was needed elsewhere); the generator was recreated.';
      } catch (again) {
        if (!app.lost) throw again;
        await makeGenerator(`the GPU device was lost twice in a row (${e.message})`);
        z = await generateAndDraw(latents);
      }
    }
    app.latents = z;
    app.timings.lastFrameMs = performance.now() - t0;
    app.timings.firstImageMs ??= performance.now();
    $('timing').textContent = `${app.batch} image${app.batch > 1 ? 's' : ''} in ${app.timings.lastFrameMs.toFixed(0)} ms`;
    app.updateTiles();
    if (document.body.dataset.state !== 'ready') {
      clearError();
      $('progress').hidden = true;
      setState('ready');
    }
  });
}

/** Draws the grid of the current seed and batch, and puts them in the URL. */
async function regenerate() {
  stopWalk();
  showRealness(null);
  if (app.generator?.backend === 'webgpu') $('notice').hidden = true; // an old device-lost note
  app.walk.from = null;
  updateUrl();
  await draw((g) => g.latents(app.seed, app.batch));
}

function updateUrl() {
  // A dropped model has no address to put in the URL; one from ?src= keeps it.
  const own = app.entry.id === OWN;
  const q = new URLSearchParams(own ? {} : { model: app.entry.id });
  if (own && app.entry.origin !== 'dropped') q.set('src', app.entry.origin);
  q.set('seed', app.seed);
  q.set('batch', app.batch);
  if (app.generator?.numClasses > 0) q.set('class', app.cls);
  if (app.backend !== 'auto') q.set('backend', app.backend);
  history.replaceState(null, '', `${location.pathname}?${q}`);
  $('seed').value = app.seed;
  $('batch').value = app.batch;
}

// ---- realness (the model's discriminator) ----

/** Scores the images on the canvas with the discriminator and redraws them most real first. */
async function sortByRealness() {
  stopWalk();
  const g = app.generator;
  const scores = await exclusive(() => g.realness(app.discriminator, app.images));
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
  const dim = g.latentDim;
  const sorted = new Float32Array(app.latents.length);
  order.forEach((from, to) => sorted.set(app.latents.subarray(from * dim, (from + 1) * dim), to * dim));
  app.walk.from = null;
  await draw(sorted);
  showRealness(order.map((i) => scores[i]));
  return app.realness;
}

/** Shows the logits of the images on the canvas (in grid order), or hides them (null). */
function showRealness(scores) {
  app.realness = scores;
  $('realness-label').hidden = $('realness').hidden = !scores;
  if (!scores) return;
  const fmt = (v) => (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(2);
  $('realness').textContent =
    `sorted by the discriminator's logit, most real first: ${fmt(scores[0])} … ${fmt(scores[scores.length - 1])}` +
    ` (${scores.filter((v) => v > 0).length} of ${scores.length} judged real)`;
}

// ---- latent walk (walk.js) ----

const { nextTarget, startWalk, stopWalk } = createWalk({ app, draw, showError, showRealness, maxSeed: MAX_SEED });

/** The tile under grid pixel (x, y) of `view`, or -1 over a gap or past the last tile. */
function imageAt(view, x, y) {
  const g = app.generator;
  const col = Math.floor(x / (g.width + 2));
  const row = Math.floor(y / (g.height + 2));
  const inTile = x % (g.width + 2) < g.width && y % (g.height + 2) < g.height;
  const index = row * view.columns + col;
  return inTile && x >= 0 && y >= 0 && col < view.columns && index < view.count ? index : -1;
}

function onCanvasClick(event) {
  const c = app.canvas;
  const v = app.view;
  if (!v) return;
  const x = (event.offsetX * v.width) / c.clientWidth;
  const y = (event.offsetY * v.height) / c.clientHeight;
  const index = imageAt(v, Math.floor(x), Math.floor(y));
  if (index < 0) return;
  selectImage(index);
}

/** Selects image `index` for download and makes it the start of the next walk (every tile). */
function selectImage(index) {
  app.selected = index;
  $('selected').textContent = index + 1;
  const dim = app.generator.latentDim;
  const one = app.latents.subarray(index * dim, (index + 1) * dim);
  const from = new Float32Array(app.batch * dim);
  for (let i = 0; i < app.batch; i++) from.set(one, i * dim);
  Object.assign(app.walk, { from, to: nextTarget(), t: 0 });
  app.updateTiles();
}

// ---- downloads ----

function fileStem() {
  const walk = app.walk.from ? '-walk' : '';
  const id = app.entry.id === OWN ? app.entry.name.replace(/[^A-Za-z0-9_.-]/g, '_') : app.entry.id;
  return `webgan-${id}-seed${app.seed}${walk}`;
}
const downloadGrid = () => saveGrid(app.images, exclusive, fileStem());
const downloadOne = () => saveOne(app.images, exclusive, fileStem(), app.selected);

// ---- wiring ----

function act(fn) {
  return (...args) =>
    Promise.resolve()
      .then(() => fn(...args))
      .catch(showError);
}

function wire() {
  $('model').addEventListener('change', act(async () => {
    setState('loading');
    await loadModel($('model').value);
    await regenerate();
  }));
  $('batch').addEventListener('change', act(() => {
    app.batch = wholeNumber($('batch').value, app.batch, 1, MAX_BATCH);
    app.selected = Math.min(app.selected, app.batch - 1);
    return regenerate();
  }));
  $('seed').addEventListener('change', act(() => {
    app.seed = wholeNumber($('seed').value, app.seed, 0, MAX_SEED);
    return regenerate();
  }));
  $('new-seed').addEventListener('click', act(() => {
    app.seed = crypto.getRandomValues(new Uint32Array(1))[0];
    return regenerate();
  }));
  $('class').addEventListener('change', act(() => {
    app.cls = Number($('class').value);
    return regenerate();
  }));
  $('walk').addEventListener('click', () => (app.walk.running ? stopWalk() : startWalk()));
  $('speed').addEventListener('input', () => (app.walk.speed = Number($('speed').value)));
  $('sort-realness').addEventListener('click', act(sortByRealness));
  $('download-grid').addEventListener('click', act(downloadGrid));
  $('download-one').addEventListener('click', act(downloadOne));
  installDropZone(act(openDropped));
  addEventListener('resize', () => app.updateTiles()); // the canvas may be shown smaller or larger
}

async function boot() {
  setState('loading');
  wire();
  app.walk.speed = Number($('speed').value);
  try {
    const src = sourceUrl(params.get('src'));
    // With ?src= the gallery is only the picker's other choices: the page works without it.
    app.gallery = await (src ? fetchGallery().catch(() => ({ models: [] })) : fetchGallery());
    $('model').replaceChildren(...app.gallery.models.map((m) => new Option(`${m.name} (${m.resolution})`, m.id)));
    if (src) {
      offerOwn(await fetchOwnModel(src));
      await loadModel(OWN);
    } else {
      await loadModel(params.get('model') ?? app.gallery.default ?? app.gallery.models[0].id);
    }
    await regenerate();
  } catch (e) {
    showError(e);
  }
}

window.webgan = {
  app,
  /** The package's Generator in use, and the Images on the canvas. */
  get generator() {
    return app.generator;
  },
  get images() {
    return app.images;
  },
  /** Whether the generator in use has lost its GPU device (its `lost` promise resolved). */
  isLost: () => app.lost,
  regenerate: () => regenerate(),
  setSeed: (seed) => ((app.seed = seed), regenerate()),
  setBatch: (batch) => ((app.batch = batch), regenerate()),
  play: startWalk,
  pause: stopWalk,
  selectImage,
  sortByRealness,
  downloadGrid,
  downloadOne,
  /** Waits for the engine calls queued so far. */
  idle: () => exclusive(() => {}),
};

boot();
