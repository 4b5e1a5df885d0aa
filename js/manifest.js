// model.json before any weights are read: the caps and the checks of its `weights` entry, the
// same as the native loader's (src/limits.rs, Manifest::check), so a hostile folder is refused
// before a byte of its weights is fetched. The engine checks everything again before use.
import { LoadError, quote } from './errors.js';

// The caps of src/limits.rs, kept equal by hand (the package has no build step that reads them).
/** The largest weights file the package loads, in bytes (1 GiB). */
export const MAX_WEIGHTS_BYTES = 1073741824;
/** The largest model.json the package reads, in bytes (4 MB). */
export const MAX_MANIFEST_BYTES = 4194304;

// A weights file name: one plain name inside the model folder. Native code (Model::load_dir)
// refuses `/`, `\` and a leading dot; the package also refuses what a URL would treat specially
// (`%`, `?`, `#`, `:`, spaces), so the file can only be a sibling of model.json.
const WEIGHTS_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

/** model.json's text parsed, with the checks of its `weights` entry. */
export function parseManifest(text, what = 'model.json') {
  let manifest;
  try {
    manifest = JSON.parse(text);
  } catch (e) {
    throw new LoadError(`${what} is not valid JSON (${e.message})`, 'Choose another model; this one is broken.');
  }
  checkWeightsSpec(manifest?.weights, what);
  return manifest;
}

/** The checks native code makes on `weights` before reading a byte, and the size cap. */
export function checkWeightsSpec(w, what = 'model.json') {
  if (!w || typeof w.file !== 'string' || typeof w.bytes !== 'number' || typeof w.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(w.sha256)) {
    throw new LoadError(`${what} does not say which weights file to load (weights.file, bytes, sha256)`, 'Choose another model; this one is not a webgan model.');
  }
  if (w.file.includes('/') || w.file.includes('\\') || w.file.startsWith('.')) {
    throw new LoadError(`the weights file ${quote(w.file)} named in ${what} is not a plain file name inside the model folder`,
      'Choose another model; its weights.file must be a plain name such as weights.safetensors (no "/", no "\\", no leading dot).');
  }
  if (!WEIGHTS_FILE.test(w.file)) {
    throw new LoadError(`the weights file ${quote(w.file)} named in ${what} may hold only letters, digits, "-", "_" and "." (up to 255 of them)`,
      'Choose another model; weights.file must be a file name such as weights.safetensors.');
  }
  if (!Number.isSafeInteger(w.bytes) || w.bytes <= 0) {
    throw new LoadError(`the weights size in ${what} (weights.bytes) is ${quote(w.bytes)}, not a positive whole number of bytes`, 'Choose another model; this one is broken.');
  }
  if (w.bytes > MAX_WEIGHTS_BYTES) {
    throw new LoadError(`this model's weights are ${w.bytes} bytes (${(w.bytes / 2 ** 30).toFixed(1)} GiB) according to ${what}, more than the ${MAX_WEIGHTS_BYTES} bytes (1 GiB) webgan loads`,
      'Choose a smaller model.');
  }
}

/** The text of a manifest given in memory (a string, or an object to serialise), capped. */
export function manifestText(manifest) {
  let text = manifest;
  if (typeof manifest === 'object' && manifest !== null) {
    text = JSON.stringify(manifest);
  }
  if (typeof text !== 'string') {
    throw new LoadError(`the manifest must be model.json's text or its parsed object, not ${quote(manifest)}`, 'Pass { manifest, weights } with manifest a string or an object.');
  }
  // UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length: the exact count only where it matters.
  if (text.length > MAX_MANIFEST_BYTES || (3 * text.length > MAX_MANIFEST_BYTES && new TextEncoder().encode(text).byteLength > MAX_MANIFEST_BYTES)) {
    throw new LoadError(`the manifest is larger than ${MAX_MANIFEST_BYTES} bytes (4 MB), the most webgan reads`, 'Choose another model; this one is not a webgan model.');
  }
  return text;
}

/** `options.expect` checked: undefined, or { bytes?, sha256?, from? }. */
export function checkExpect(expect) {
  if (expect === undefined || expect === null) return undefined;
  if (typeof expect !== 'object') throw new TypeError(`expect must be { bytes, sha256 }, not ${quote(expect)}`);
  return expect;
}

/** Throws unless `w` (model.json's checked `weights`) has the size and SHA-256 `expect` gives. */
export function matchExpected(w, expect, what = 'model.json') {
  if (!expect) return;
  const from = typeof expect.from === 'string' ? expect.from : 'the expected weights (options.expect)';
  const hint = `Choose another model; ${from} and this model's folder disagree (one of them must be updated).`;
  if (expect.sha256 !== undefined && expect.sha256 !== w.sha256) {
    const shown = /^[0-9a-f]{64}$/.test(expect.sha256) ? expect.sha256 : quote(expect.sha256);
    throw new LoadError(`${from} gives this model's weights the SHA-256 ${shown} but its ${what} says ${w.sha256}`, hint);
  }
  if (expect.bytes !== undefined && expect.bytes !== w.bytes) {
    throw new LoadError(`${from} gives this model's weights as ${quote(expect.bytes)} bytes but its ${what} says ${w.bytes}`, hint);
  }
}
