"""Export, run and check helpers for ``tools/make_onnx_fixtures.py``: the two torch ONNX
exporters (TorchScript, ``dynamo=False``; torch.export-based, ``dynamo=True``, with per-node
metadata stripped), single-threaded onnxruntime CPU sessions, the summaries stored in each
family's ``info.json`` (of the torch module and of each ONNX file), and the max-|diff| check
every output must pass (``TOL``).
"""

from __future__ import annotations

import hashlib
import os
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn

TOL = 1e-5


def module_summary(model: nn.Module) -> list[dict]:
    """Leaf modules in registration order (spectral-norm parametrizations are folded into the
    module that owns them)."""
    out = []
    for name, m in model.named_modules():
        if name.endswith("parametrizations") or ".parametrizations." in name:
            continue
        kids = [k for k_name, k in m.named_children() if k_name != "parametrizations"]
        if kids:
            continue
        entry = {"name": name, "type": type(m).__name__, "repr": repr(m).replace("\n", " ")}
        sn = spectral_norm_kind(m)
        if sn:
            entry["spectral_norm"] = sn
        out.append(entry)
    return out


def spectral_norm_kind(m: nn.Module) -> str | None:
    for hook in m._forward_pre_hooks.values():
        if type(hook).__name__ == "SpectralNorm":
            return "torch.nn.utils.spectral_norm"
    if torch.nn.utils.parametrize.is_parametrized(m, "weight"):
        return "torch.nn.utils.parametrizations.spectral_norm"
    return None


def ort_session(path: str) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_run(path: str, feeds: dict[str, np.ndarray]) -> np.ndarray:
    sess = ort_session(path)
    names = [o.name for o in sess.get_outputs()]
    assert names == ["image"], f"{path}: outputs {names}"
    got = [i.name for i in sess.get_inputs()]
    assert sorted(got) == sorted(feeds), f"{path}: inputs {got} vs {sorted(feeds)}"
    return sess.run(["image"], feeds)[0]


def op_types(model: onnx.ModelProto) -> list[str]:
    """Sorted op types of the main graph, plus those inside any function or subgraph, with a
    domain prefix for non-standard domains."""
    ops = set()

    def visit(graph):
        for node in graph.node:
            ops.add(node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}")
            for attr in node.attribute:
                if attr.g is not None and attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g)
                for g in attr.graphs:
                    visit(g)

    visit(model.graph)
    for fn in model.functions:
        for node in fn.node:
            ops.add(f"{fn.domain}.{fn.name}/{node.op_type}")
    return sorted(ops)


def op_counts(model: onnx.ModelProto) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return dict(sorted(counts.items()))


def onnx_summary(path: str) -> dict:
    m = onnx.load(path)  # external data, if any, is loaded from next to the file
    onnx.checker.check_model(m, full_check=True)
    opset = {(o.domain or "ai.onnx"): o.version for o in m.opset_import}
    m_raw = onnx.load(path, load_external_data=False)
    external = [t.name for t in m_raw.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]

    def shape(vi):
        return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]

    return {
        "file": os.path.basename(path),
        "bytes": os.path.getsize(path),
        "producer": f"{m.producer_name} {m.producer_version}",
        "ir_version": m.ir_version,
        "opset_import": opset,
        "inputs": [
            {"name": i.name, "elem_type": onnx.TensorProto.DataType.Name(i.type.tensor_type.elem_type),
             "shape": shape(i)} for i in m.graph.input
        ],
        "outputs": [
            {"name": o.name, "elem_type": onnx.TensorProto.DataType.Name(o.type.tensor_type.elem_type),
             "shape": shape(o)} for o in m.graph.output
        ],
        "initializers": len(m.graph.initializer),
        "external_initializers": len(external),
        "nodes": len(m.graph.node),
        "op_types": op_types(m),
        "op_counts": op_counts(m),
    }

def vdot_symbolic(g, a, b):
    # torch.nn.utils.parametrizations.spectral_norm computes sigma = torch.vdot(u, W @ v) in
    # eval mode, and the TorchScript exporter has no symbolic for aten::vdot ("Exporting the
    # operator 'aten::vdot' to ONNX opset version 17 is not supported"). For real 1-D tensors
    # vdot is dot, which the exporter maps to MatMul; do the same. The inputs are all weights,
    # so constant folding then bakes weight / sigma into one initializer.
    return g.op("MatMul", a, b)


def export_torchscript(model, args, path, input_names, opset=17):
    dyn = {name: {0: "N"} for name in input_names}
    dyn["image"] = {0: "N"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, args, path, dynamo=False, opset_version=opset, input_names=input_names,
            output_names=["image"], dynamic_axes=dyn, do_constant_folding=True,
            export_params=True,
        )


def export_dynamo(model, args, path, input_names, external_data: bool, opset=18):
    batch = torch.export.Dim("N", min=1, max=1024)
    dynamic_shapes = {name: {0: batch} for name in input_names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prog = torch.onnx.export(
            model, args, dynamo=True, opset_version=opset, input_names=input_names,
            output_names=["image"], dynamic_shapes=dynamic_shapes, external_data=external_data,
            optimize=True, verbose=False,
        )
        # Drop per-node metadata (source stack traces with absolute paths, FX node names): it
        # makes the file depend on where this script lives and it is of no use to webgan.
        strip_metadata(prog.model)
        prog.save(path, external_data=external_data)


def strip_metadata(ir_model) -> None:
    def visit(graph):
        for node in graph:
            node.metadata_props.clear()
            for attr in node.attributes.values():
                if hasattr(attr, "value") and hasattr(attr.value, "__iter__") and type(attr.value).__name__ == "Graph":
                    visit(attr.value)
        for v in list(graph.inputs) + list(graph.outputs) + list(graph.initializers.values()):
            v.metadata_props.clear()
        graph.metadata_props.clear()

    visit(ir_model.graph)
    for fn in ir_model.functions.values():
        visit(fn)
    ir_model.metadata_props.clear()


def save_npy(path: str, arr: np.ndarray) -> None:
    np.save(path, np.ascontiguousarray(arr))


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def check(label: str, a: np.ndarray, b: np.ndarray) -> float:
    d = max_diff(a, b)
    status = "ok" if d <= TOL else "FAIL"
    print(f"  {label:<44} max|diff| = {d:.3e}  {status}")
    if d > TOL:
        raise SystemExit(f"{label}: max |diff| {d} > {TOL}")
    return d
