// The browser benchmark: the same measurement as `webgan bench` (first run with plan compile,
// median of ≥ 10 warm runs including readback, images/s, GFLOP/s), on WebGPU and on the
// WebAssembly CPU fallback. Query: ?model=faces64&batch=1,8,64&cpu=1,8&runs=10
import { Generator, createGenerator, fetchGallery, fetchManifest, fetchWeights, initWasm } from './load.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const list = (key, fallback) =>
  (params.get(key) ?? fallback).split(',').filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);
const GPU_BATCHES = list('batch', '1,8,64');
const CPU_BATCHES = list('cpu', '1,8');
const RUNS = Math.max(10, Number(params.get('runs')) || 10);

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function measure(generator, batch) {
  const z = Generator.latents(1, batch, generator.latentDim);
  const classes = generator.numClasses > 0 ? new Uint32Array(batch) : undefined;
  let t = performance.now();
  await generator.generateFloats(z, batch, classes);
  const first = performance.now() - t;
  const warm = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    await generator.generateFloats(z, batch, classes);
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
  await initWasm();
  const gallery = await fetchGallery();
  const entry = gallery.models.find((m) => m.id === (params.get('model') ?? gallery.default)) ?? gallery.models[0];
  const modelUrl = new URL(entry.path, new URL('models/', location.href));
  $('status').textContent = `Loading ${entry.name}…`;
  const { text, manifest } = await fetchManifest(modelUrl, entry);
  const { bytes } = await fetchWeights(modelUrl, manifest);
  const result = { model: entry.id, userAgent: navigator.userAgent, rows: [], webgpu: null, cpu: null };

  const gpu = await createGenerator(text, bytes, document.createElement('canvas'), 'auto');
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
  gpu.free();

  const cpu = await createGenerator(text, bytes, document.createElement('canvas'), 'cpu', 'benchmark of the CPU fallback');
  result.cpu = 'WebAssembly CPU reference';
  for (const batch of CPU_BATCHES) {
    $('status').textContent = `CPU (WebAssembly), batch ${batch}…`;
    const r = await measure(cpu, batch);
    result.rows.push(r);
    addRow(r);
  }
  cpu.free();

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
