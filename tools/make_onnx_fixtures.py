#!/usr/bin/env python3
"""Build five small seeded GAN generators in PyTorch, export them to ONNX with PyTorch's own
exporters and record what onnxruntime computes, so webgan's ONNX importer is checked against the
real frameworks rather than against memory.

    /work/venv-torch/bin/python tools/make_onnx_fixtures.py [--out tests/fixtures/onnx]

Needs torch (>= 2.9), onnx, onnxruntime, onnxscript (for the torch.export-based exporter),
numpy and safetensors. CI never runs this: everything the Rust tests read is committed under
``tests/fixtures/onnx/`` (described file by file in ``tests/fixtures/onnx/README.md``).

Families (one folder each), all float32, eval mode, every BatchNorm with random affine
parameters and random running mean / (positive) running variance, every affine InstanceNorm with
random affine parameters, so eps, layouts and inference mode all matter:

* ``dcgan64``  DCGAN 64x64 generator, nz=16, ngf=4; input ``z`` [N, 16, 1, 1].
* ``cyclegan`` CycleGAN ResNet generator (reflection pads, InstanceNorm affine and not, 2
  residual blocks, ConvTranspose2d with output_padding=1), ngf=8; input ``x`` [N, 3, 32, 32].
* ``pix2pix``  U-Net of depth 4 (Conv 4x4 s2 + LeakyReLU(0.2) + BatchNorm down,
  ConvTranspose2d 4x4 s2 + BatchNorm + ReLU up, channel skips, Dropout), ngf=6; input ``x``.
* ``sngan``    class-conditional generator: Embedding(10, 8) of ``y`` [N] int64 concatenated
  with ``z`` [N, 16], spectral-normed Linear, 2 residual up-blocks, output 3x16x16. Uses both
  ``torch.nn.utils.spectral_norm`` (weight_orig / weight_u / weight_v) and
  ``torch.nn.utils.parametrizations.spectral_norm``; u and v come from 5 train-mode passes.
* ``progan``   pixel norm, equalized-LR mapping MLP (3 layers), linear to 16x4x4, equalized-LR
  convs with LeakyReLU + pixel norm, bilinear (align_corners=False) upsampling, 1x1 toRGB, no
  tanh; input ``z`` [N, 16]; output 3x16x16.

Per family: ``model.onnx`` (TorchScript exporter, ``dynamo=False``, opset 17, weights inside,
batch dimension dynamic), ``z.npy`` / ``y.npy`` / ``x.npy`` (N=2), ``out.npy`` (onnxruntime CPU
output of ``model.onnx``), ``info.json``; cyclegan and progan also ``model_dynamo.onnx`` (the
torch.export-based exporter, opset 18; cyclegan with external data ``model_dynamo.onnx.data``,
progan self-contained); dcgan64 also ``model_opset13.onnx``; dcgan64 and sngan ``model.pt``
(state dict), sngan also ``model.safetensors``. ``bad/`` holds files the importer must refuse.

Every output is checked: onnxruntime vs PyTorch eager within 1e-5 (max |diff| printed and
stored in info.json), every extra variant vs ``out.npy`` within 1e-5, batch 1 and batch 3
through the dynamic batch axis. Seeds are fixed, torch and onnxruntime run single-threaded,
and the files this script owns are deleted and rewritten (anything else in the folders is
left alone), so reruns give the same files (see the README
for which bytes may change with other torch versions).

This file is the driver (what each folder gets, info.json, the bad files, the file listing);
the PyTorch modules live in ``tools/onnx_fixture_models.py`` and the exporter, onnxruntime and
comparison helpers in ``tools/onnx_fixture_export.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_fixture_export import (  # noqa: E402
    TOL, check, export_dynamo, export_torchscript, module_summary, onnx_summary, ort_run,
    ort_session, save_npy, sha256, vdot_symbolic,
)
from onnx_fixture_models import (  # noqa: E402
    DCGAN64, SNGAN, CumSumGen, CycleGAN, ProGAN, TinyGen, UNet, randomize_norms,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20261130
N = 2


# --------------------------------------------------------------------------------------------
# Driver


FORWARD_NOTES = {
    "dcgan64": "main(z): the Sequential, nothing functional",
    "cyclegan": "model(x); each ResnetBlock returns x + conv_block(x)",
    "pix2pix": "d1=down1(x); d2=down2(d1); d3=down3(d2); d4=down4(d3); "
               "u4=cat([d3, up4(d4)],1); u3=cat([d2, up3(u4)],1); u2=cat([d1, up2(u3)],1); "
               "image=up1(u2)",
    "sngan": "h=cat([z, embed(y)],1); h=linear(h).view(-1,16,4,4); block(x) = "
             "conv2(relu(bn2(conv1(up(relu(bn1(x))))))) + shortcut(up(x)); "
             "image=tanh(conv_out(relu(bn(block2(block1(h))))))",
    "progan": "w=mapping(pixel_norm(z)); h=to_const(w).view(-1,16,4,4); image=to_rgb(body(h)); "
              "pixel_norm(x)=x/sqrt(mean(x*x,dim=1,keepdim)+1e-8); Equal*: weight*sqrt(2/fan_in) "
              "at run time; BilinearUp = F.interpolate(scale_factor=2, bilinear, align_corners=False)",
}


# Files this script owns in each folder. Only these are removed before a rebuild: other files
# (for example a hand-written format-2 arch.json next to a model) are left alone.
OWNED = ["model.onnx", "model_opset13.onnx", "model_dynamo.onnx", "model_dynamo.onnx.data",
         "model.pt", "model.safetensors", "z.npy", "y.npy", "x.npy", "out.npy", "info.json"]
OWNED_BAD = ["unsupported_op.onnx", "external_missing.onnx", "external_missing.onnx.data",
             "tmp_inline.onnx"]


def clean_dir(d: str, owned: list[str]) -> None:
    os.makedirs(d, exist_ok=True)
    for name in owned:
        p = os.path.join(d, name)
        if os.path.exists(p):
            os.remove(p)


def write_family(out_root: str, family: str, index: int) -> dict:
    print(f"[{family}]")
    d = os.path.join(out_root, family)
    clean_dir(d, OWNED)

    torch.manual_seed(SEED + index)
    gen = torch.Generator().manual_seed(SEED + 100 + index)
    rng = np.random.default_rng(SEED + index)

    if family == "dcgan64":
        model = DCGAN64()
        inputs = {"z": rng.standard_normal((N, 16, 1, 1)).astype(np.float32)}
        roles = {"z": ("latent", [16, 1, 1])}
    elif family == "cyclegan":
        model = CycleGAN()
        inputs = {"x": rng.uniform(-1, 1, (N, 3, 32, 32)).astype(np.float32)}
        roles = {"x": ("image", [3, 32, 32])}
    elif family == "pix2pix":
        model = UNet()
        inputs = {"x": rng.uniform(-1, 1, (N, 3, 32, 32)).astype(np.float32)}
        roles = {"x": ("image", [3, 32, 32])}
    elif family == "sngan":
        model = SNGAN()
        inputs = {
            "z": rng.standard_normal((N, 16)).astype(np.float32),
            "y": np.array([3, 7], dtype=np.int64),
        }
        roles = {"z": ("latent", [16]), "y": ("class", [])}
    elif family == "progan":
        model = ProGAN()
        inputs = {"z": rng.standard_normal((N, 16)).astype(np.float32)}
        roles = {"z": ("latent", [16])}
    else:
        raise ValueError(family)

    sn_info = None
    if family == "sngan":
        # Power iteration happens only in train mode: run a few passes so u, v are not the
        # random initial vectors, then set BN statistics (train passes would have moved them).
        before = {k: v.clone() for k, v in model.state_dict().items() if k.endswith(("_u", "_v"))}
        model.train()
        with torch.no_grad():
            for _ in range(5):
                model(torch.randn(8, 16), torch.randint(0, 10, (8,)))
        after = model.state_dict()
        moved = {k: float((after[k] - v).abs().max()) for k, v in before.items()}
        assert all(m > 1e-4 for m in moved.values()), moved
        sn_info = {"u_v_max_change_from_init": moved, "train_mode_passes": 5, "n_power_iterations": 1}

    randomize_norms(model, gen)
    model.eval()

    names = list(inputs)  # ONNX input order = forward() argument order
    t_args = tuple(torch.from_numpy(inputs[k]) for k in names)
    with torch.no_grad():
        eager = model(*t_args).numpy()
        eager_b3 = model(*(torch.cat([a, a[:1]], 0) for a in t_args)).numpy()

    for k, v in inputs.items():
        save_npy(os.path.join(d, f"{k}.npy"), v)

    variants = {}
    diffs = {}
    onnx_path = os.path.join(d, "model.onnx")
    export_torchscript(model, t_args, onnx_path, names)
    out = ort_run(onnx_path, inputs)
    save_npy(os.path.join(d, "out.npy"), out)
    diffs["model.onnx_vs_torch"] = check("model.onnx (ORT) vs torch eager", out, eager)
    b3 = ort_run(onnx_path, {k: np.concatenate([v, v[:1]], 0) for k, v in inputs.items()})
    diffs["model.onnx_batch3_vs_torch"] = check("model.onnx batch 3 vs torch eager", b3, eager_b3)
    b1 = ort_run(onnx_path, {k: v[1:2] for k, v in inputs.items()})
    diffs["model.onnx_batch1_vs_out"] = check("model.onnx batch 1 vs out.npy[1]", b1, out[1:2])
    variants["model.onnx"] = {"exporter": "torch.onnx.export(dynamo=False)", **onnx_summary(onnx_path)}

    if family == "dcgan64":
        p = os.path.join(d, "model_opset13.onnx")
        export_torchscript(model, t_args, p, names, opset=13)
        diffs["model_opset13.onnx_vs_out"] = check("model_opset13.onnx vs out.npy", ort_run(p, inputs), out)
        variants["model_opset13.onnx"] = {"exporter": "torch.onnx.export(dynamo=False)", **onnx_summary(p)}

    if family in ("cyclegan", "progan"):
        p = os.path.join(d, "model_dynamo.onnx")
        external = family == "cyclegan"
        try:
            export_dynamo(model, t_args, p, names, external_data=external)
            r = ort_run(p, inputs)
            diffs["model_dynamo.onnx_vs_out"] = check("model_dynamo.onnx vs out.npy", r, out)
            diffs["model_dynamo.onnx_vs_torch"] = check("model_dynamo.onnx vs torch eager", r, eager)
            r3 = ort_run(p, {k: np.concatenate([v, v[:1]], 0) for k, v in inputs.items()})
            diffs["model_dynamo.onnx_batch3_vs_torch"] = check("model_dynamo.onnx batch 3 vs torch", r3, eager_b3)
            s = onnx_summary(p)
            data = p + ".data"
            s["external_data_file"] = os.path.basename(data) if os.path.exists(data) else None
            if os.path.exists(data):
                s["external_data_bytes"] = os.path.getsize(data)
            variants["model_dynamo.onnx"] = {
                "exporter": f"torch.onnx.export(dynamo=True, external_data={external})", **s}
        except Exception as e:  # noqa: BLE001 - report and carry on, as the README says
            print(f"  dynamo export FAILED: {type(e).__name__}: {e}")
            for f in (p, p + ".data"):
                if os.path.exists(f):
                    os.remove(f)
            variants["model_dynamo.onnx"] = {"failed": f"{type(e).__name__}: {str(e)[:500]}"}

    state_files = {}
    if family in ("dcgan64", "sngan"):
        sd = model.state_dict()
        pt = os.path.join(d, "model.pt")
        torch.save(sd, pt)
        state_files["model.pt"] = sorted(sd)
        # Check the saved state dict reproduces the output in a fresh instance.
        fresh = type(model)()
        fresh.load_state_dict(torch.load(pt, map_location="cpu", weights_only=True))
        fresh.eval()
        with torch.no_grad():
            diffs["model.pt_reload_vs_torch"] = check("model.pt reloaded vs torch eager", fresh(*t_args).numpy(), eager)
    if family == "sngan":
        from safetensors.torch import save_file, load_file

        st = os.path.join(d, "model.safetensors")
        tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
        # One metadata key only: safetensors writes the metadata from a Rust HashMap, so with
        # several keys their order (and the file's bytes) changes from run to run.
        save_file(tensors, st, metadata={"format": "pt"})
        os.chmod(st, 0o644)  # safetensors creates the file 0600
        back = load_file(st)
        assert sorted(back) == sorted(tensors) and all(torch.equal(back[k], tensors[k]) for k in back)
        state_files["model.safetensors"] = sorted(tensors)

    sd = model.state_dict()
    info = {
        "family": family,
        "seed": SEED + index,
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
        "onnxruntime_version": ort.__version__,
        "inputs": [
            {
                "name": k,
                "role": roles[k][0],
                "dtype": str(inputs[k].dtype),
                "onnx_shape": ["N", *inputs[k].shape[1:]],
                "per_sample_shape": roles[k][1],
                **({"classes": 10} if roles[k][0] == "class" else {}),
                "file": f"{k}.npy",
                "file_shape": list(inputs[k].shape),
            }
            for k in names
        ],
        "output": {"name": "image", "dtype": "float32", "onnx_shape": ["N", *out.shape[1:]],
                   "per_sample_shape": list(out.shape[1:]), "file": "out.npy", "file_shape": list(out.shape),
                   "range": [float(out.min()), float(out.max())]},
        "opset": 17,
        "tolerance": TOL,
        "max_abs_diff": diffs,
        "forward": FORWARD_NOTES[family],
        "modules": module_summary(model),
        "state_dict": {k: {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} for k, v in sd.items()},
        "state_dict_files": state_files,
        "onnx_op_types": variants["model.onnx"]["op_types"],
        "onnx": variants,
    }
    if sn_info:
        info["spectral_norm"] = sn_info
    with open(os.path.join(d, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    return info


def write_bad(out_root: str) -> None:
    print("[bad]")
    d = os.path.join(out_root, "bad")
    clean_dir(d, OWNED_BAD)
    z = torch.from_numpy(np.random.default_rng(SEED + 50).standard_normal((N, 8)).astype(np.float32))

    torch.manual_seed(SEED + 50)
    m = CumSumGen().eval()
    p = os.path.join(d, "unsupported_op.onnx")
    export_torchscript(m, (z,), p, ["z"])
    with torch.no_grad():
        check("unsupported_op.onnx (ORT) vs torch", ort_run(p, {"z": z.numpy()}), m(z).numpy())
    s = onnx_summary(p)
    assert "CumSum" in s["op_types"], s["op_types"]
    print(f"  unsupported_op.onnx ops: {s['op_types']}")

    torch.manual_seed(SEED + 51)
    m = TinyGen().eval()
    p = os.path.join(d, "external_missing.onnx")
    tmp = os.path.join(d, "tmp_inline.onnx")
    export_torchscript(m, (z,), tmp, ["z"])
    model = onnx.load(tmp)
    os.remove(tmp)
    onnx.save_model(model, p, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="external_missing.onnx.data", size_threshold=0)
    with torch.no_grad():
        check("external_missing.onnx (with .data) vs torch", ort_run(p, {"z": z.numpy()}), m(z).numpy())
    s = onnx_summary(p)
    os.remove(p + ".data")
    raw = onnx.load(p, load_external_data=False)
    ext = [t.name for t in raw.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    print(f"  external_missing.onnx: {len(ext)} external initializers, data file deleted; ops {s['op_types']}")
    try:
        ort_session(p)
    except Exception as e:  # noqa: BLE001
        print(f"  onnxruntime on it: {type(e).__name__}: {str(e).splitlines()[0][:160]}")
    else:
        raise SystemExit("external_missing.onnx loaded without its data file")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "onnx"))
    ap.add_argument("--only", nargs="*", help="families to rebuild (default: all, plus bad/)")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.onnx.register_custom_op_symbolic("aten::vdot", vdot_symbolic, 9)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    families = ["dcgan64", "cyclegan", "pix2pix", "sngan", "progan"]
    todo = args.only or families + ["bad"]
    print(f"torch {torch.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    for i, fam in enumerate(families):
        if fam in todo:
            write_family(args.out, fam, i)
    if "bad" in todo:
        write_bad(args.out)

    print("\nfiles:")
    total = 0
    for dirpath, _, files in sorted(os.walk(args.out)):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            total += os.path.getsize(p)
            print(f"  {os.path.relpath(p, args.out):<36} {os.path.getsize(p):>9,}  {sha256(p)[:16]}")
    print(f"  total {total:,} bytes")


if __name__ == "__main__":
    sys.exit(main())
