#!/usr/bin/env bash
# Installs everything the build, the demo and the tests need on a fresh Debian 12 machine, and
# skips whatever is already there at the right version. Called by `make setup` (and so by
# `make serve` and `make test`). Only Debian packages, crates.io, PyPI and npm are used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pinned in Cargo.toml
WASM_PACK_VERSION=0.15.1
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: Chromium + chromedriver (browser tests), lavapipe (Vulkan on the CPU),
# python3 + pip + venv (converters), node + npm (end-to-end tests).
packages=(chromium chromium-driver mesa-vulkan-drivers python3 python3-pip python3-venv nodejs npm curl ca-certificates)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere (e.g. a preinstalled Node.js): accept what is on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
    missing=("${missing[@]/python3-pip}"); missing=("${missing[@]/python3}")
fi
read -r -a missing <<<"${missing[*]}"
if [ "${#missing[@]}" -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Rust toolchain pieces.
if ! command -v cargo >/dev/null; then
    echo "setup: cargo is missing; install Rust with rustup first" >&2
    exit 1
fi
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
    say "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (several minutes)"
    # Not --locked: a locked dependency of this version is not served by the registry here.
    cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
    say "cargo install wasm-pack $WASM_PACK_VERSION (several minutes)"
    cargo install -q wasm-pack --version "$WASM_PACK_VERSION" --locked --force
fi

# Python: numpy (and h5py for Keras files) for the converters (system interpreter).
if ! python3 -c "import numpy, h5py" 2>/dev/null; then
    say "pip install numpy h5py"
    python3 -m pip install -q -r tools/requirements.txt 2>/dev/null \
        || python3 -m pip install -q --break-system-packages -r tools/requirements.txt
fi

# npm: playwright-core (drives Debian's Chromium; never downloads a browser) and binaryen
# (wasm-opt for `make build`).
if [ -f www/package.json ] && { [ ! -d www/node_modules/playwright-core ] || [ ! -x www/node_modules/.bin/wasm-opt ]; }; then
    say "npm install (www/)"
    (cd www && npm install --no-audit --no-fund --loglevel=error)
fi
# npm: typescript for the package tests' strict check of the shipped typings (tests/package/).
if [ -f tests/package/package.json ] && [ "$(tests/package/node_modules/.bin/tsc --version 2>/dev/null)" != "Version $(node -p 'require("./tests/package/package.json").devDependencies.typescript')" ]; then
    say "npm install (tests/package/)"
    (cd tests/package && npm install --no-audit --no-fund --loglevel=error)
fi
# npm: the bundler example's esbuild (with its platform binary) and typescript, pinned in
# examples/bundler/package.json, in npm's cache: tests/e2e/examples.mjs installs the example from
# its package-lock.json with `npm ci --offline`, as a user's CI would.
if [ -f examples/bundler/package.json ]; then
    esbuild_version=$(node -p 'require("./examples/bundler/package.json").devDependencies.esbuild')
    typescript_version=$(node -p 'require("./examples/bundler/package.json").devDependencies.typescript')
    platform=$(node -p 'process.platform + "-" + process.arch')
    for spec in "esbuild@$esbuild_version" "@esbuild/$platform@$esbuild_version" "typescript@$typescript_version"; do
        if ! npm cache ls "$spec" 2>/dev/null | grep -q '\.tgz$'; then
            say "npm cache add $spec (examples/bundler)"
            npm cache add "$spec" --loglevel=error
        fi
    done
fi
say "ready"
