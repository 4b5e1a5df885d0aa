// The browser benchmark: the same measurement as `webgan bench` (first run with plan compile,
// median of ≥ 10 warm runs including readback, images/s, GFLOP/s), on WebGPU and on the
// WebAssembly CPU fallback. Query: ?model=faces64&batch=1,8,64&cpu=1,8&runs=10
// The npm package's API on this thread (no Worker: the timings are the engine's alone).
import { loadGenerator } from './pkg/browser.js';
import { fetchGallery, fetchManifest } from './load.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const list = (key, fallback) =>
  (params.get(key) ?? fallback).split(',').filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);
const GPU_BATCHES = list('batch', '1,8,64');
const CPU_BATCHES = list('cpu', '1,8');
const RUNS = Math.max(10, Number(params.get('runs')) || 10);

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function measure(generator, batch) {
  const z = generator.latents(1, batch);
  const classes = generator.numClasses > 0 ? new Uint32Array(batch) : undefined;
  const generateFloats = async () => {
    const images = await generator.generate({ latents: z, count: batch }, { classes });
    try {
      return await images.floats();
    } finally {
      images.dispose();
    }
  };
  let t = performance.now();
  await generateFloats();
  const first = performance.now() - t;
  const warm = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    await generateFloats();
    warm.push(performance.now() - t);
  }
  const warmMs = median(warm);
  const imagesPerS = batch / (warmMs / 1e3);
  return {
    backend: generator.backend,
    batch,
    firstMs: first,
    warmMs,
    imagesPerS,
    gflops: (generator.flopsPerImage * imagesPerS) / 1e9,
    runs: RUNS,
  };
}

function addRow(r) {
  const row = document.createElement('tr');
  const cells = [r.backend, r.batch, r.firstMs.toFixed(1), r.warmMs.toFixed(1), r.imagesPerS.toFixed(1), r.gflops.toFixed(2), r.runs];
  row.replaceChildren(...cells.map((c) => Object.assign(document.createElement('td'), { textContent: c })));
  $('results').tBodies[0].append(row);
}

async function main() {
  const gallery = await fetchGallery();
  const entry = gallery.models.find((m) => m.id === (params.get('model') ?? gallery.default)) ?? gallery.models[0];
  const modelUrl = new URL(entry.path, new URL('models/', location.href));
  $('status').textContent = `Loading ${entry.name}…`;
  await fetchManifest(modelUrl, entry); // the gallery's size and SHA-256 against model.json
  const expect = { bytes: entry.size, sha256: entry.sha256, from: 'the model list (models/index.json)' };
  const result = { model: entry.id, userAgent: navigator.userAgent, rows: [], webgpu: null, cpu: null };

  const gpu = await loadGenerator(modelUrl, { backend: 'auto', expect });
  result.flopsPerImage = gpu.flopsPerImage;
  $('model-info').textContent = `${entry.name}: ${(gpu.flopsPerImage / 1e9).toFixed(3)} GFLOP per image`;
  $('adapter').textContent = gpu.adapter;
  if (gpu.backend === 'webgpu') {
    result.webgpu = gpu.adapter;
    for (const batch of GPU_BATCHES) {
      $('status').textContent = `WebGPU, batch ${batch}…`;
      const r = await measure(gpu, batch);
      result.rows.push(r);
      addRow(r);
    }
  } else {
    result.webgpu = `unavailable: ${gpu.fallbackReason}`;
  }
  gpu.dispose();

  const cpu = await loadGenerator(modelUrl, { backend: 'cpu', expect });
  result.cpu = 'WebAssembly CPU reference';
  for (const batch of CPU_BATCHES) {
    $('status').textContent = `CPU (WebAssembly), batch ${batch}…`;
    const r = await measure(cpu, batch);
    result.rows.push(r);
    addRow(r);
  }
  cpu.dispose();

  $('status').textContent = 'Done.';
  window.benchResult = result;
  document.body.dataset.state = 'done';
}

main().catch((e) => {
  $('error-message').textContent = e.message;
  $('error-hint').textContent = e.hint ?? 'Reload the page to run the benchmark again.';
  $('error').hidden = false;
  $('status').textContent = 'Failed.';
  window.benchResult = { error: e.message };
  document.body.dataset.state = 'error';
});
