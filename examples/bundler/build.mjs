// Builds dist/: the page, src/main.ts bundled by esbuild into main.js, and the package's wasm
// module copied beside the bundle. webgan's glue finds its wasm through
// `new URL('webgan_bg.wasm', import.meta.url)`; esbuild leaves that expression as it is in an
// ES-module bundle, so at run time it resolves against main.js's own URL: dist/webgan_bg.wasm.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const here = import.meta.dirname;
const out = join(here, 'dist');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outfile: join(out, 'main.js'),
  logLevel: 'warning',
});
const webgan = dirname(createRequire(join(here, 'package.json')).resolve('webgan/package.json'));
copyFileSync(join(webgan, 'wasm', 'webgan_bg.wasm'), join(out, 'webgan_bg.wasm'));
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
console.log(`built ${out}: index.html, main.js, webgan_bg.wasm`);
