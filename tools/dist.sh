#!/usr/bin/env bash
# tools/dist.sh DIR: a self-contained static folder for any static host (no server code, no
# build step there): the page and the bench (HTML, JS, CSS), pkg/ (the npm package's browser
# entry and its modules, with the wasm module and its JS glue in pkg/wasm/, staged by `make
# build`), and models/ (index.json and every model it lists, with its
# discriminator where it has one, the weights checked against their model.json). Called by
# `make dist`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

out="${1:?usage: tools/dist.sh DIR}"
for f in www/pkg/browser.js www/pkg/worker.js www/pkg/wasm/webgan.js www/pkg/wasm/webgan_bg.wasm; do
    [ -f "$f" ] || { echo "dist: $f is missing; run \`make build\` first" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out/pkg/wasm" "$out/models"
# Every page, module and style sheet of the site (the page's modules import one another).
cp www/*.html www/*.js www/*.css "$out/"
# The package's browser modules (node.js and files.js are Node's, never imported by a page).
for f in www/pkg/*.js; do
    case "$(basename "$f")" in node.js|files.js|png.js) ;; *) cp "$f" "$out/pkg/" ;; esac
done
cp www/pkg/wasm/webgan.js www/pkg/wasm/webgan_bg.wasm "$out/pkg/wasm/"

# The models index.json lists, each folder's model.json and the weights file it names.
python3 - "$out" <<'PY'
import hashlib, json, os, shutil, sys

out = sys.argv[1]
gallery = json.load(open("www/models/index.json", encoding="utf-8"))
shipped = []
for entry in gallery["models"]:
    src = os.path.join("www/models", entry["path"])
    if entry.get("optional") and not os.path.exists(os.path.join(src, "model.json")):
        print(f"dist: skipping optional models/{entry['path']} (not built; run `make models`)")
        continue
    shipped.append(entry)
    # The model, and its discriminator (a model folder of its own) where the gallery lists one.
    for path in [entry["path"]] + ([entry["discriminator"]["path"]] if entry.get("discriminator") else []):
        src = os.path.join("www/models", path)
        dst = os.path.join(out, "models", path)
        manifest = json.load(open(os.path.join(src, "model.json"), encoding="utf-8"))
        weights = manifest["weights"]["file"]
        if "/" in weights or weights.startswith("."):
            sys.exit(f"dist: {src}/model.json names weights outside its folder: {weights}")
        data = open(os.path.join(src, weights), "rb").read()
        digest = hashlib.sha256(data).hexdigest()
        if len(data) != manifest["weights"]["bytes"] or digest != manifest["weights"]["sha256"]:
            sys.exit(f"dist: {src}/{weights} does not match its model.json (size or SHA-256); rebuild the model")
        os.makedirs(dst, exist_ok=True)
        shutil.copy2(os.path.join(src, "model.json"), dst)
        shutil.copy2(os.path.join(src, weights), dst)
        print(f"dist: models/{path} ({len(data) / 1e6:.1f} MB)")
gallery["models"] = shipped
with open(os.path.join(out, "models", "index.json"), "w", encoding="utf-8") as fh:
    fh.write(json.dumps(gallery, indent=2, ensure_ascii=False) + "\n")
PY

echo "dist: $out ($(du -sh "$out" | cut -f1)); serve it as static files, e.g. python3 -m http.server --directory $out"
