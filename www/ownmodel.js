// "Open your own model": a model folder named by the page's `?src=` parameter, or model.json and
// its weights dropped onto the page (read from the File objects, no network). Both go through
// the checks of load.js and the package (file name, size caps, SHA-256) before the engine, which checks again.
import { LoadError, MAX_MANIFEST_BYTES, MAX_WEIGHTS_BYTES, fetchManifest, parseManifest, verifyWeights } from './load.js';

/** The picker's value for a model that is not in the gallery. */
export const OWN = '__own';

/**
 * The model folder URL of `?src=` (resolved against the page), or null without one. The URL is
 * untrusted: only http and https are fetched; `…/model.json` stands for its folder, and a
 * folder without a trailing slash gets one, so model.json and the weights resolve inside it.
 */
export function sourceUrl(src, page = location.href) {
  if (src === null || src === '') return null;
  let url;
  try {
    url = new URL(src, page);
  } catch {
    throw new LoadError(`the model address ${JSON.stringify(src.slice(0, 80))} (?src=) is not a URL`, 'Give ?src= the URL of a model folder, e.g. ?src=https://example.org/models/faces64/.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LoadError(`the model address (?src=) must be an http or https URL, not ${url.protocol}`, 'Give ?src= the URL of a model folder, e.g. ?src=https://example.org/models/faces64/.');
  }
  url.hash = '';
  url.search = '';
  if (url.pathname.endsWith('/model.json')) url.pathname = url.pathname.slice(0, -'model.json'.length);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** A gallery-like entry for a model that brings only its model.json. */
function entryFor(manifest, origin) {
  const text = (v, fallback) => (typeof v === 'string' && v ? v.slice(0, 2000) : fallback);
  const name = text(manifest.name, 'your model').slice(0, 80);
  return {
    id: OWN,
    name,
    origin, // where it came from, for the picker: "dropped" or the folder URL
    description: text(manifest.description, ''),
    license: text(manifest.license, 'not stated in model.json.'),
    source: text(manifest.source, origin),
    size: manifest.weights.bytes,
    dtype: text(manifest.weights.dtype, ''),
    class_names: Array.isArray(manifest.class_names) ? manifest.class_names.map(String) : undefined,
  };
}

/**
 * The model in folder `url` (same origin, or a server that allows CORS): { entry, source, expect }
 * (its model.json read here for the picker; loadGenerator downloads and checks the weights).
 */
export async function fetchOwnModel(url) {
  const { manifest } = await fetchManifest(url);
  const { bytes, sha256 } = manifest.weights;
  return { entry: entryFor(manifest, url.href), source: url.href, expect: { bytes, sha256, from: `the model.json first read from ${url.href}` } };
}

/**
 * The files of a drop, read while the event lasts (a DataTransfer is emptied after it): the
 * dropped files, and the files directly inside a dropped folder. Returns a promise of File[].
 */
export function droppedFiles(dataTransfer) {
  const entries = [...(dataTransfer.items ?? [])]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  const files = [...dataTransfer.files];
  if (!entries.some((e) => e?.isDirectory)) return Promise.resolve(files);
  return Promise.all(entries.map((entry, i) => {
    if (!entry?.isDirectory) return entry ? new Promise((ok, no) => entry.file(ok, no)).then((f) => [f]) : [files[i]].filter(Boolean);
    return readFolder(entry);
  })).then((lists) => lists.flat());
}

async function readFolder(dir) {
  const reader = dir.createReader();
  const entries = [];
  for (;;) {
    const batch = await new Promise((ok, no) => reader.readEntries(ok, no));
    if (batch.length === 0) break;
    entries.push(...batch);
    if (entries.length > 1000) break; // a model folder holds a few files
  }
  return Promise.all(entries.filter((e) => e.isFile).map((e) => new Promise((ok, no) => e.file(ok, no))));
}

const DROP_HINT = 'Drop model.json together with its weights file (weights.safetensors), or the folder that holds both.';

/** A short list of file names for an error message. */
function names(files) {
  const list = files.slice(0, 5).map((f) => JSON.stringify(f.name.slice(0, 60)));
  return list.join(', ') + (files.length > 5 ? ` and ${files.length - 5} more` : '');
}

/** Lists `entry` (a visitor's model) first in the model picker `select`, or renames it there. */
export function offerInPicker(select, entry) {
  let option = select.querySelector(`option[value="${OWN}"]`);
  if (!option) select.prepend((option = new Option('', OWN)));
  const from = entry.origin === 'dropped' ? 'dropped files' : new URL(entry.origin).host;
  option.textContent = `${entry.name} (${from})`;
}

/**
 * The dropped model, checked before the engine sees it: { entry, source: { manifest, weights } }. Sizes
 * are checked before a byte is read; the weights must have model.json's size and SHA-256.
 */
export async function readDroppedModel(files) {
  if (files.length === 0) throw new LoadError('nothing that can be read was dropped', DROP_HINT);
  const manifestFile = files.find((f) => f.name === 'model.json');
  if (!manifestFile) {
    throw new LoadError(`the dropped file${files.length > 1 ? 's' : ''} ${names(files)} ${files.length > 1 ? 'hold' : 'holds'} no model.json`, DROP_HINT);
  }
  if (manifestFile.size > MAX_MANIFEST_BYTES) {
    throw new LoadError(`the dropped model.json has ${manifestFile.size} bytes, more than the ${MAX_MANIFEST_BYTES} bytes (4 MB) this page reads`, 'Drop the model.json of a webgan model.');
  }
  const text = await manifestFile.text();
  const manifest = parseManifest(text);
  const spec = manifest.weights;
  const others = files.filter((f) => f !== manifestFile);
  // The file model.json names; else the one .safetensors file dropped with it (the hash decides).
  const candidates = others.filter((f) => f.name.endsWith('.safetensors'));
  const weightsFile = others.find((f) => f.name === spec.file) ?? (candidates.length === 1 ? candidates[0] : null);
  if (!weightsFile) {
    const file = JSON.stringify(spec.file);
    throw new LoadError(others.length
      ? `the weights file ${file} that model.json names was not dropped with it (only ${names(others)})`
      : `only model.json was dropped: its weights file ${file} is missing`, DROP_HINT);
  }
  if (weightsFile.size > MAX_WEIGHTS_BYTES) {
    throw new LoadError(`the dropped weights file ${JSON.stringify(weightsFile.name)} has ${weightsFile.size} bytes, more than the ${MAX_WEIGHTS_BYTES} bytes (1 GiB) this page loads`, 'Drop a smaller model.');
  }
  if (weightsFile.size !== spec.bytes) {
    throw new LoadError(`the dropped weights file ${JSON.stringify(weightsFile.name)} has ${weightsFile.size} bytes but model.json says ${spec.bytes}`,
      'Drop the weights file that belongs to this model.json.');
  }
  const bytes = new Uint8Array(await weightsFile.arrayBuffer());
  const problem = await verifyWeights(bytes, spec);
  if (problem) {
    throw new LoadError(`the dropped weights file ${JSON.stringify(weightsFile.name)} does not belong to this model.json: ${problem}`,
      'Drop the weights file that belongs to this model.json.');
  }
  return { entry: entryFor(manifest, 'dropped'), source: { manifest: text, weights: bytes } };
}

/**
 * Makes the whole page a drop target: `body.dragging` while files are dragged over it (the
 * highlight), and `onDrop(promise of File[])` at the drop.
 */
export function installDropZone(onDrop) {
  let depth = 0; // dragenter/dragleave fire for every child crossed
  const carriesFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  const set = (on) => document.body.classList.toggle('dragging', on);
  document.addEventListener('dragenter', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth += 1;
    set(true);
  });
  document.addEventListener('dragover', (e) => {
    if (!carriesFiles(e)) return;
    e.preventDefault(); // allow the drop
    e.dataTransfer.dropEffect = 'copy';
    set(true);
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) set(false);
  });
  document.addEventListener('drop', (e) => {
    e.preventDefault(); // never navigate to the dropped file
    depth = 0;
    set(false);
    if (e.dataTransfer) onDrop(droppedFiles(e.dataTransfer));
  });
}
