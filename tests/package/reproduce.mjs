// The Node use, run from a scratch project that installed the tarball: exactly
// loadGenerator({manifest, weights}, {backend: 'cpu'}), generate({seed: 1, count: 4}), floats().
// Usage: node reproduce.mjs MODEL_DIR OUT.f32 (raw little-endian float32).
import { readFileSync, writeFileSync } from 'node:fs';
import { loadGenerator } from 'webgan';

const [dir, out] = process.argv.slice(2);
const manifest = readFileSync(`${dir}/model.json`, 'utf8');
const weights = new Uint8Array(readFileSync(`${dir}/${JSON.parse(manifest).weights.file}`));
const generator = await loadGenerator({ manifest, weights }, { backend: 'cpu' });
const images = await generator.generate({ seed: 1, count: 4 });
const floats = await images.floats();
writeFileSync(out, new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength));
console.log(JSON.stringify({ name: generator.name, backend: generator.backend, count: images.count, values: floats.length }));
generator.dispose();
