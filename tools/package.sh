#!/usr/bin/env bash
# tools/package.sh: the npm package `webgan` as dist/npm/webgan-<version>.tgz (`make package`).
# Stages build/npm/pkg/: the hand-written sources of js/ (entries, loader, typings, README) and
# wasm/ (the wasm-pack `--target web` glue and module, wasm-opt'ed), with a package.json written
# here (version from Cargo.toml). wasm-pack's own package.json and README stay out: they
# describe the internal glue, not the package. WASM_OPT is the Makefile's wasm-opt command.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

: "${WASM_OPT:?set WASM_OPT to the wasm-opt command (the Makefile does)}"
version=$(awk -F'"' '/^\[/{p = ($0 == "[package]")} p && /^version *=/ {print $2; exit}' Cargo.toml)
[ -n "$version" ] || { echo "package: no version in Cargo.toml's [package]" >&2; exit 1; }

stage=build/npm
pkg=$stage/pkg
rm -rf "$pkg"
mkdir -p "$pkg/wasm" dist/npm

wasm-pack build --release --target web --out-dir "$stage/wasm-pack" --out-name webgan
$WASM_OPT "$stage/wasm-pack/webgan_bg.wasm" -o "$pkg/wasm/webgan_bg.wasm"
# The glue's typings comment names a .d.ts the package does not ship (index.d.ts is the API).
grep -v '^/\* @ts-self-types=' "$stage/wasm-pack/webgan.js" > "$pkg/wasm/webgan.js"

sources=(browser.js node.js worker.js remote.js load.js generator.js images.js source.js download.js cache.js manifest.js verify.js files.js png.js errors.js)
for f in "${sources[@]}" index.d.ts README.md; do
    cp "js/$f" "$pkg/$f"
done

VERSION="$version" SOURCES="${sources[*]}" node - "$pkg/package.json" <<'JS'
const fs = require('node:fs');
const pkg = {
  name: 'webgan',
  version: process.env.VERSION,
  description: 'Pretrained GAN image generators in the browser on WebGPU (WebAssembly CPU fallback), and in Node',
  keywords: ['gan', 'webgpu', 'wasm', 'image-generation', 'wgsl', 'dcgan'],
  license: 'MIT',
  type: 'module',
  exports: {
    '.': {
      types: './index.d.ts',
      node: './node.js',
      browser: './browser.js',
      default: './browser.js',
    },
    './package.json': './package.json',
  },
  main: './node.js',
  browser: './browser.js',
  types: './index.d.ts',
  files: [...process.env.SOURCES.split(' '), 'index.d.ts', 'README.md', 'wasm/webgan.js', 'wasm/webgan_bg.wasm'],
  sideEffects: false,
  engines: { node: '>=20' },
};
fs.writeFileSync(process.argv[2], `${JSON.stringify(pkg, null, 2)}\n`);
JS

rm -f dist/npm/webgan-*.tgz
root=$PWD
(cd "$pkg" && npm pack --pack-destination "$root/dist/npm" --loglevel=warn >/dev/null)
tarball="dist/npm/webgan-$version.tgz"
[ -f "$tarball" ] || { echo "package: npm pack wrote no $tarball" >&2; exit 1; }
echo "package: $tarball ($(stat -c %s "$tarball") bytes; wasm $(stat -c %s "$pkg/wasm/webgan_bg.wasm") bytes)"
