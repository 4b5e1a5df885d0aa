// A model folder on disk (Node): model.json and the weights file it names, read as the native
// loader reads them (src/files.rs): only regular files (a FIFO would hang, /dev/zero never
// ends), sizes checked from the metadata before reading, never more than one byte past the cap.
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { LoadError, checkAborted } from './errors.js';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest.js';
import { verify } from './verify.js';

const CHUNK = 4 << 20;
const NOT_A_MODEL = 'Give the folder of a webgan model (it holds model.json and its weights file).';

async function regularSize(file, what) {
  let info;
  try {
    info = await stat(file);
  } catch (e) {
    if (e.code === 'ENOENT') throw new LoadError(`${what} (${file}) does not exist`, NOT_A_MODEL);
    throw new LoadError(`could not read ${what} (${file}): ${e.message}`, NOT_A_MODEL, { cause: e });
  }
  if (!info.isFile()) throw new LoadError(`${what} (${file}) is not a regular file; give a plain file`, NOT_A_MODEL);
  return info.size;
}

/**
 * The bytes of the regular file `file`, which must hold `size` bytes by its metadata; reads
 * at most one byte more, and fails if the file changed meanwhile.
 */
async function readExactly(file, what, size, onRead, signal) {
  let handle;
  try {
    handle = await open(file, 'r');
    if (!(await handle.stat()).isFile()) throw new LoadError(`${what} (${file}) is not a regular file; give a plain file`, NOT_A_MODEL);
    const bytes = new Uint8Array(size + 1);
    let at = 0;
    for (;;) {
      checkAborted(signal);
      const { bytesRead } = await handle.read(bytes, at, Math.min(CHUNK, bytes.byteLength - at), at);
      if (bytesRead === 0) break;
      at += bytesRead;
      onRead(Math.min(at, size));
      if (at === bytes.byteLength) break;
    }
    if (at !== size) {
      throw new LoadError(`${what} (${file}) changed while it was read (${size} bytes before, ${at === size + 1 ? 'more' : at} now); try again`, NOT_A_MODEL);
    }
    return bytes.subarray(0, size);
  } catch (e) {
    if (e instanceof LoadError || e?.name === 'AbortError' || signal?.aborted) throw e;
    throw new LoadError(`could not read ${what} (${file}): ${e.message}`, NOT_A_MODEL, { cause: e });
  } finally {
    await handle?.close();
  }
}

/** `{ text, weights }` of the model folder `dir` (or of the folder of a model.json path). */
export async function readFolder(dir, { signal, report }, what = 'the model') {
  let folder = path.resolve(dir);
  if (path.basename(folder) === 'model.json') folder = path.dirname(folder);
  const manifestPath = path.join(folder, 'model.json');
  const manifestSize = await regularSize(manifestPath, `model.json of ${what}`);
  if (manifestSize > MAX_MANIFEST_BYTES) {
    throw new LoadError(`model.json (${manifestPath}) has ${manifestSize} bytes; webgan reads at most ${MAX_MANIFEST_BYTES}`, NOT_A_MODEL);
  }
  const text = new TextDecoder().decode(await readExactly(manifestPath, 'model.json', manifestSize, () => {}, signal));
  const spec = parseManifest(text, `model.json (${manifestPath})`).weights;
  const weightsPath = path.join(folder, spec.file); // spec.file is a plain name: a sibling
  const size = await regularSize(weightsPath, `the weights file of ${what}`);
  if (size !== spec.bytes) {
    throw new LoadError(`the weights file (${weightsPath}) has ${size} bytes but model.json says ${spec.bytes}`,
      'The folder holds a wrong weights file for this model.json; convert the model again.');
  }
  report('download', 0, size);
  const weights = await readExactly(weightsPath, 'the weights file', size, (n) => report('download', n, size), signal);
  report('verify', 0, size);
  const problem = await verify(weights, spec);
  if (problem) {
    throw new LoadError(`the weights file (${weightsPath}) is corrupt or does not belong to this model: ${problem}`,
      'The folder holds a wrong weights file for this model.json; convert the model again.');
  }
  report('verify', size, size);
  return { text, weights };
}
