#!/usr/bin/env python3
"""Write www/models/index.json, the list of models the web page offers, from the model folders.

    python3 tools/make_gallery.py [--models www/models] [--default faces64]

Every sub-folder of --models holding a model.json becomes an entry (sorted by name, the
default first). Folders git ignores (models built from downloads rather than committed, like
eyes128 from tools/make_models.sh) are listed with "optional": true: the page (www/load.js)
and tools/dist.sh check that an optional model is there before offering or copying it, so a
fresh checkout never offers a model it lacks, and offers it once `make models` has built it.
Fields (those the page, www/main.js and www/load.js, reads):

    id, path, name, description, size (weights bytes), resolution ("WxH"), channels,
    latent_dim, num_classes, conditional, class_names (conditional models only, from the
    folder's class_names.json when present), dtype, sha256 (of the weights), license, source,
    optional (built models only), discriminator (models whose folder has a discriminator/
    sub-folder, a model.json + weights that score the generator's images:
    {"path", "size", "sha256"}; the page offers "Sort by realness" with it)

The default model is --default, else the current index.json's default if it still exists,
else faces64, else the first. The output is deterministic (stable order, 2-space JSON).
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORMAT = "webgan-gallery/1"


def entry(models_dir: str, folder: str) -> "collections.OrderedDict[str, object]":
    path = os.path.join(models_dir, folder)
    with open(os.path.join(path, "model.json"), encoding="utf-8") as fh:
        m = json.load(fh)
    weights = os.path.join(path, m["weights"]["file"])
    size = os.path.getsize(weights)
    if size != m["weights"]["bytes"]:
        raise SystemExit(f"{weights}: {size} bytes but model.json says {m['weights']['bytes']}")
    shape = m["output_shape"]
    e: "collections.OrderedDict[str, object]" = collections.OrderedDict()
    e["id"] = folder
    e["path"] = folder + "/"
    e["name"] = m["name"]
    e["description"] = m["description"]
    e["size"] = size
    e["resolution"] = f"{shape[2]}x{shape[1]}" if len(shape) == 3 else f"{shape[0]}"
    e["channels"] = shape[0] if len(shape) == 3 else None
    e["latent_dim"] = m["latent_dim"]
    e["num_classes"] = m.get("num_classes")
    e["conditional"] = bool(m.get("num_classes"))
    if e["conditional"]:
        names_path = os.path.join(path, "class_names.json")
        names = None
        if os.path.exists(names_path):
            with open(names_path, encoding="utf-8") as fh:
                names = json.load(fh)
            if len(names) != m["num_classes"]:
                raise SystemExit(f"{names_path}: {len(names)} names for {m['num_classes']} classes")
        e["class_names"] = names or [str(k) for k in range(m["num_classes"])]
    e["dtype"] = m["weights"]["dtype"]
    e["sha256"] = m["weights"]["sha256"]
    e["license"] = m["license"]
    e["source"] = m["source"]
    critic = os.path.join(path, "discriminator")
    if os.path.isfile(os.path.join(critic, "model.json")):
        with open(os.path.join(critic, "model.json"), encoding="utf-8") as fh:
            d = json.load(fh)
        d_size = os.path.getsize(os.path.join(critic, d["weights"]["file"]))
        if d_size != d["weights"]["bytes"] or d["latent_dim"] != math.prod(shape) or d["output_shape"] != [1]:
            raise SystemExit(f"{critic}: not a discriminator of {folder} (it must take the "
                             f"{math.prod(shape)} values of one image and output one logit, "
                             f"and its weights must have the bytes its model.json says)")
        e["discriminator"] = collections.OrderedDict(
            path=folder + "/discriminator/", size=d_size, sha256=d["weights"]["sha256"])
    return e


def git_ignored(path: str) -> bool:
    """True when git ignores ``path``. Without git or outside a repository, falls back to
    the repository's .gitignore naming ``/www/models/<folder>`` literally."""
    try:
        r = subprocess.run(["git", "check-ignore", "-q", path], cwd=os.path.dirname(path),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode in (0, 1):
            return r.returncode == 0
    except OSError:
        pass
    try:
        with open(os.path.join(ROOT, ".gitignore"), encoding="utf-8") as fh:
            lines = {line.strip().rstrip("/") for line in fh}
    except OSError:
        return False
    rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
    return "/" + rel in lines


def build(models_dir: str, default: str | None = None,
          include_ignored: bool = True) -> "collections.OrderedDict[str, object]":
    folders = sorted(f for f in os.listdir(models_dir)
                     if os.path.isfile(os.path.join(models_dir, f, "model.json"))
                     and (include_ignored or not git_ignored(os.path.join(models_dir, f))))
    if not folders:
        raise SystemExit(f"no model folders (with model.json) in {models_dir}")
    if default is None:
        try:
            with open(os.path.join(models_dir, "index.json"), encoding="utf-8") as fh:
                default = json.load(fh).get("default")
        except (OSError, ValueError):
            default = None
    if default not in folders:
        default = "faces64" if "faces64" in folders else folders[0]
    folders.remove(default)
    out: "collections.OrderedDict[str, object]" = collections.OrderedDict()
    out["format"] = FORMAT
    out["default"] = default
    out["models"] = []
    for f in [default] + folders:
        e = entry(models_dir, f)
        if git_ignored(os.path.join(models_dir, f)):
            e["optional"] = True
        out["models"].append(e)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=os.path.join(ROOT, "www", "models"))
    p.add_argument("--default", help="id of the model the page opens with")
    p.add_argument("--committed-only", action="store_true",
                   help="leave out model folders git ignores (built locally, e.g. eyes128)")
    a = p.parse_args(argv)
    gallery = build(os.path.abspath(a.models), a.default, not a.committed_only)
    path = os.path.join(a.models, "index.json")
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps(gallery, indent=2, ensure_ascii=False) + "\n")
    for e in gallery["models"]:
        print(f"{e['id']}: {e['resolution']} x{e['channels']}, {e['size']} bytes {e['dtype']}"
              + (f", {e['num_classes']} classes" if e["conditional"] else ""))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
