// The page's own checks around the npm package (./pkg/browser.js, staged by `make build`): the
// gallery (models/index.json), model.json of a listed discriminator or a visitor's model against
// what the page expects, and the checks of a dropped model (ownmodel.js). Models are downloaded,
// verified, cached and run by the package's loadGenerator.
import { LoadError, MAX_MANIFEST_BYTES, MAX_WEIGHTS_BYTES, readJsonText, verifyWeights } from './pkg/browser.js';

export { LoadError, MAX_MANIFEST_BYTES, MAX_WEIGHTS_BYTES, verifyWeights };

// A weights file name the page fetches: one plain name inside the model folder. Native code
// (Model::load_dir) refuses `/`, `\` and a leading dot; the page also refuses what a URL would
// treat specially (`%`, `?`, `#`, `:`, spaces), so the file can only be a sibling of model.json.
const WEIGHTS_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

async function get(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new LoadError(`could not download ${what}: network error (${e.message})`, 'Check your connection and reload the page.');
  }
  if (!response.ok) {
    throw new LoadError(`could not download ${what}: HTTP ${response.status} ${response.statusText} for ${url}`, 'Reload the page; if it persists the site is missing this file.');
  }
  return response;
}

/** `value` for an error message: JSON-quoted and cut short, as manifests can hold anything. */
function quote(value) {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** models/index.json: the models this site offers. */
export async function fetchGallery(base = 'models/') {
  const response = await get(new URL('index.json', new URL(base, location.href)), 'the model list');
  const hint = 'The site is misconfigured: regenerate models/index.json.';
  let gallery;
  try {
    gallery = JSON.parse(await readJsonText(response, 'the model list (models/index.json)'));
  } catch (e) {
    if (e instanceof LoadError) throw e;
    throw new LoadError(`models/index.json is not valid JSON (${e.message})`, hint);
  }
  if (Array.isArray(gallery?.models)) {
    // Optional models are built locally (`make models`), not committed: offer them only where
    // this site actually has them.
    const base_url = new URL(base, location.href);
    const present = await Promise.all(gallery.models.map(async (m) => {
      if (!m.optional) return true;
      try {
        return (await fetch(new URL(`${m.path}model.json`, base_url), { method: 'HEAD' })).ok;
      } catch {
        return false;
      }
    }));
    gallery.models = gallery.models.filter((_, i) => present[i]);
  }
  if (!Array.isArray(gallery?.models) || gallery.models.length === 0) {
    throw new LoadError('models/index.json lists no models', 'The site is misconfigured: add a model to models/index.json.');
  }
  return gallery;
}

/**
 * model.json of the model in folder `modelUrl`: its text and parsed form (for a discriminator,
 * and for a visitor's model's description). `listed`, a gallery entry's `discriminator`, must
 * give the same weights (`size`, `sha256`) as the manifest (the package checks a generator's
 * against its gallery entry through loadGenerator's `expect`).
 */
export async function fetchManifest(modelUrl, listed = undefined) {
  const response = await get(new URL('model.json', modelUrl), 'the model description (model.json)');
  const text = await readJsonText(response, 'the model description (model.json)');
  const manifest = parseManifest(text);
  const w = manifest.weights;
  if (listed?.sha256 !== undefined && listed.sha256 !== w.sha256) {
    throw new LoadError(`the model list (models/index.json) gives this model's weights the SHA-256 ${/^[0-9a-f]{64}$/.test(listed.sha256) ? listed.sha256 : quote(listed.sha256)} but its model.json says ${w.sha256}`,
      'Choose another model; the site must update its model list or this model\'s folder.');
  }
  if (listed?.size !== undefined && listed.size !== w.bytes) {
    throw new LoadError(`the model list (models/index.json) gives this model's weights as ${quote(listed.size)} bytes but its model.json says ${w.bytes}`,
      'Choose another model; the site must update its model list or this model\'s folder.');
  }
  return { text, manifest };
}

/** model.json's text parsed, with the checks of its `weights` entry (before any weights are read). */
export function parseManifest(text) {
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new LoadError(`model.json is not valid JSON (${e.message})`, 'Choose another model; this one is broken.');
  }
  checkWeightsSpec(manifest?.weights);
  return manifest;
}

/** The checks native code makes on `weights` before reading a byte, and the page's size cap. */
function checkWeightsSpec(w) {
  if (!w || typeof w.file !== 'string' || typeof w.bytes !== 'number' || !/^[0-9a-f]{64}$/.test(w.sha256 ?? '')) {
    throw new LoadError('model.json does not say which weights file to load (weights.file, bytes, sha256)', 'Choose another model; this one is not a webgan model.');
  }
  const broken = 'Choose another model; this one is broken.';
  if (w.file.includes('/') || w.file.includes('\\') || w.file.startsWith('.')) {
    throw new LoadError(`the weights file ${quote(w.file)} named in model.json is not a plain file name inside the model folder`,
      'Choose another model; its weights.file must be a plain name such as weights.safetensors (no "/", no "\\", no leading dot).');
  }
  if (!WEIGHTS_FILE.test(w.file)) {
    throw new LoadError(`the weights file ${quote(w.file)} named in model.json may hold only letters, digits, "-", "_" and "." (up to 255 of them)`,
      'Choose another model; weights.file must be a file name such as weights.safetensors.');
  }
  if (!Number.isSafeInteger(w.bytes) || w.bytes <= 0) {
    throw new LoadError(`the weights size in model.json (weights.bytes) is ${quote(w.bytes)}, not a positive whole number of bytes`, broken);
  }
  if (w.bytes > MAX_WEIGHTS_BYTES) {
    throw new LoadError(`this model's weights are ${w.bytes} bytes (${(w.bytes / 2 ** 30).toFixed(1)} GiB) according to model.json, more than the ${MAX_WEIGHTS_BYTES} bytes (1 GiB) this page loads`,
      'Choose a smaller model.');
  }
}

