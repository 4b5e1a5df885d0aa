"""Tests for the converter's spectral and weight norm folding, as eval mode computes them
(tools/torch_reparam.py), and whole state-dict conversions: the --arch requirement for state
dicts and safetensors inputs (numpy only, no torch).

    python3 -m unittest discover -s tests/tools -t .

The expected folded weights come from tests/tools/convert_graph_helpers.py, computed
independently of the converter.
"""

from __future__ import annotations

import collections
import json
import os
import struct
import unittest

import numpy as np

from tests.tools.convert_graph_helpers import (  # puts tools/ on sys.path
    RNG, normalize, as_matrix, sn_state, zip_file, st_file, read_weights, TempDirMixin,
)
from tests.tools.test_convert import synthetic_dcgan
import convert  # noqa: E402
import safetensors_np  # noqa: E402
import torch_checkpoint  # noqa: E402
import torch_reparam  # noqa: E402


# ------------------------------------------------------------------ folding

class SpectralNormTest(unittest.TestCase):
    def fold(self, state, target, op):
        logical, reparams = torch_reparam.split(collections.OrderedDict(state))
        self.assertIn(target, logical)
        return torch_reparam.fold(reparams[target], collections.OrderedDict(state), op)

    def test_linear_both_forms(self):
        w = RNG.standard_normal((7, 5)).astype(np.float32)
        for form in ("hook", "parametrization"):
            with self.subTest(form=form):
                entries, want = sn_state("fc", w, 0, form=form)
                got = self.fold(entries, "fc.weight", "linear")
                self.assertEqual(got.dtype, np.float32)
                np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)

    def test_sigma_is_the_largest_singular_value_once_converged(self):
        # With u, v from a converged power iteration, σ = u·W v is the spectral norm (found
        # here by power iteration on WᵀW, no SVD), so the folded weight has spectral norm 1.
        w = RNG.standard_normal((6, 4, 3, 3)).astype(np.float32)
        entries, want = sn_state("c", w, 0, steps=500)
        mat = as_matrix(w.astype(np.float64), 0)
        x = normalize(RNG.standard_normal(mat.shape[1]))
        for _ in range(2000):
            x = normalize(mat.T @ (mat @ x))
        top = float(np.sqrt(x @ (mat.T @ (mat @ x))))
        got = self.fold(entries, "c.weight", "conv2d").astype(np.float64)
        np.testing.assert_allclose(got, w.astype(np.float64) / top, rtol=1e-5)
        folded = as_matrix(got, 0)
        y = normalize(RNG.standard_normal(folded.shape[1]))
        for _ in range(2000):
            y = normalize(folded.T @ (folded @ y))
        self.assertAlmostEqual(float(np.linalg.norm(folded @ y)), 1.0, places=5)

    def test_unconverged_u_v_are_used_as_stored(self):
        # Eval mode does no power iteration: one step from random u gives a σ below the
        # spectral norm, and torch divides by that σ, not by the true norm.
        w = RNG.standard_normal((8, 8)).astype(np.float32)
        entries, want = sn_state("fc", w, 0, steps=1)
        np.testing.assert_allclose(self.fold(entries, "fc.weight", "linear"), want, rtol=1e-6)

    def test_conv_transpose_uses_dim_1(self):
        # [in=4, out=4, 3, 3]: u and v fit dim 0 and dim 1, so the layer kind decides, as
        # torch's default does (1 for ConvTranspose2d).
        w = RNG.standard_normal((4, 4, 3, 3)).astype(np.float32)
        entries, want1 = sn_state("t", w, 1)
        got = self.fold(entries, "t.weight", "conv_transpose2d")
        np.testing.assert_allclose(got, want1, rtol=1e-6)
        # Read as a conv2d, the same state folds with dim 0: a different weight.
        as_conv = self.fold(entries, "t.weight", "conv2d")
        u, v = entries[1][1].astype(np.float64), entries[2][1].astype(np.float64)
        want0 = w.astype(np.float64) / float(u @ as_matrix(w.astype(np.float64), 0) @ v)
        np.testing.assert_allclose(as_conv, want0, rtol=1e-6)
        self.assertGreater(float(np.max(np.abs(as_conv - got))), 1e-4)

    def test_dim_from_u_v_lengths(self):
        # [in=5, out=3, 4, 4] with dim 1 (torch's default for ConvTranspose2d) fits dim 1 only.
        w = RNG.standard_normal((5, 3, 4, 4)).astype(np.float32)
        entries, want = sn_state("t", w, 1)
        np.testing.assert_allclose(self.fold(entries, "t.weight", "conv_transpose2d"), want, rtol=1e-6)
        # spectral_norm(ConvTranspose2d, dim=0) made u of length 5: that dim is the only fit.
        entries0, want0 = sn_state("t", w, 0)
        np.testing.assert_allclose(self.fold(entries0, "t.weight", "conv_transpose2d"), want0, rtol=1e-6)
        # A Linear normed with dim=1 ([out=3, in=7]).
        wl = RNG.standard_normal((3, 7)).astype(np.float32)
        entries1, want1 = sn_state("fc", wl, 1)
        np.testing.assert_allclose(self.fold(entries1, "fc.weight", "linear"), want1, rtol=1e-6)

    def test_embedding(self):
        w = RNG.standard_normal((10, 6)).astype(np.float32)
        entries, want = sn_state("emb", w, 0, form="parametrization")
        np.testing.assert_allclose(self.fold(entries, "emb.weight", "embedding"), want, rtol=1e-6)

    def test_errors(self):
        w = RNG.standard_normal((4, 3)).astype(np.float32)
        entries, _ = sn_state("fc", w, 0)
        state = collections.OrderedDict(entries)
        # Refused when the weight is read (an architecture that does not read it converts).
        cases = [
            ("old checkpoint", [e for e in entries if not e[0].endswith("_v")], "PyTorch < 1.1"),
            ("unknown parametrization", [("fc.parametrizations.weight.original", w),
                                         ("fc.parametrizations.weight.0.base", w)],
             "folds only spectral_norm"),
            ("chained parametrizations", [("fc.parametrizations.weight.original", w),
                                          ("fc.parametrizations.weight.0._u", w[:, 0]),
                                          ("fc.parametrizations.weight.0._v", w[0]),
                                          ("fc.parametrizations.weight.1._u", w[:, 0])],
             "one per tensor"),
        ]
        for what, items, pattern in cases:
            with self.subTest(what):
                st = collections.OrderedDict(items)
                logical, rp = torch_reparam.split(st)
                self.assertEqual(list(logical), ["fc.weight"])
                with self.assertRaisesRegex(convert.ConvertError, pattern):
                    torch_reparam.fold(rp["fc.weight"], st, "linear")
        with self.assertRaisesRegex(convert.ConvertError, "both 'fc.weight' and its spectral_norm"):
            torch_reparam.split(collections.OrderedDict(entries + [("fc.weight", w)]))
        logical, reparams = torch_reparam.split(state)
        bad = collections.OrderedDict(state)
        bad["fc.weight_u"] = np.ones(5, np.float32)
        with self.assertRaisesRegex(convert.ConvertError, "fit no dimension"):
            torch_reparam.fold(reparams["fc.weight"], bad, "linear")
        bad["fc.weight_u"] = np.zeros(4, np.float32)
        with self.assertRaisesRegex(convert.ConvertError, "sigma"):
            torch_reparam.fold(reparams["fc.weight"], bad, "linear")
        bad["fc.weight_u"] = np.array([1, np.nan, 0, 0], np.float32)
        with self.assertRaisesRegex(convert.ConvertError, "NaN"):
            torch_reparam.fold(reparams["fc.weight"], bad, "linear")
        # Square weight, op that names no module kind: ask.
        sq, _ = sn_state("k", RNG.standard_normal((4, 4)).astype(np.float32), 1)
        _, rp = torch_reparam.split(collections.OrderedDict(sq))
        with self.assertRaisesRegex(convert.ConvertError, "does not say which module"):
            torch_reparam.fold(rp["k.weight"], collections.OrderedDict(sq), "constant")


class WeightNormTest(unittest.TestCase):
    def check(self, v, g, want, form):
        if form == "hook":
            state = collections.OrderedDict([("m.weight_g", g), ("m.weight_v", v)])
        else:
            state = collections.OrderedDict([("m.parametrizations.weight.original0", g),
                                             ("m.parametrizations.weight.original1", v)])
        logical, reparams = torch_reparam.split(state)
        self.assertEqual(list(logical), ["m.weight"])
        self.assertEqual(logical["m.weight"].shape, v.shape)
        got = torch_reparam.fold(reparams["m.weight"], state, "conv2d")
        np.testing.assert_allclose(got, want, rtol=1e-6)

    def test_dims(self):
        v = RNG.standard_normal((5, 3, 2, 2)).astype(np.float32)
        v64 = v.astype(np.float64)
        for form in ("hook", "parametrization"):
            with self.subTest(form=form, dim=0):
                g = RNG.uniform(0.5, 2, (5, 1, 1, 1)).astype(np.float32)
                norm = np.sqrt((v64 ** 2).reshape(5, -1).sum(1)).reshape(5, 1, 1, 1)
                self.check(v, g, g * v64 / norm, form)
            with self.subTest(form=form, dim=None):
                g = np.array(1.7, np.float32)
                self.check(v, g, 1.7 * v64 / np.sqrt((v64 ** 2).sum()), form)
            with self.subTest(form=form, dim=3):
                g = RNG.uniform(0.5, 2, (1, 1, 1, 2)).astype(np.float32)
                norm = np.sqrt((v64 ** 2).sum(axis=(0, 1, 2), keepdims=True))
                self.check(v, g, g * v64 / norm, form)

    def test_bad_g(self):
        state = collections.OrderedDict([("m.weight_g", np.ones((3, 1), np.float32)),
                                         ("m.weight_v", np.ones((4, 2), np.float32))])
        _, reparams = torch_reparam.split(state)
        with self.assertRaisesRegex(convert.ConvertError, "matches no dimension"):
            torch_reparam.fold(reparams["m.weight"], state, "linear")


# -------------------------------------------------------- whole conversions

def sn_dcgan(form: str = "hook"):
    """synthetic_dcgan('seq') with spectral norm on every ConvTranspose2d (dim 1), and the
    eval-mode weights."""
    sd = synthetic_dcgan("seq")
    out, want = collections.OrderedDict(), {}
    for k, v in sd.items():
        if k.endswith(".weight") and v.ndim == 4:
            entries, w = sn_state(k[:-len(".weight")], v, 1, form=form)
            out.update(entries)
            want[k] = w
        else:
            out[k] = v
    return out, want


class ConvertStateDictTest(TempDirMixin, unittest.TestCase):
    def test_dcgan_with_spectral_norm(self):
        for form in ("hook", "parametrization"):
            with self.subTest(form=form):
                state, want = sn_dcgan(form)
                src = zip_file(self.tmp.name, f"sn_{form}.pt", state)
                out = self.path(f"sn_{form}")
                model = convert.convert(src, out, arch="dcgan", dtype="f32")
                self.assertIn("3 spectral/weight-normed weights folded", model["description"])
                got = read_weights(out)
                self.assertEqual(sorted(got), sorted(n for n in synthetic_dcgan("seq")
                                                     if "num_batches" not in n))
                for k, w in want.items():
                    np.testing.assert_allclose(got[k], w, rtol=1e-6, atol=1e-7, err_msg=k)

    def test_arch_naming_a_piece_is_refused(self):
        state, _ = sn_dcgan()
        src = zip_file(self.tmp.name, "sn.pt", state)
        spec = convert.dcgan_architecture(torch_reparam.split(state)[0])
        spec["layers"][1]["weight"] = "main.0.weight_orig"
        arch = self.path("a.json")
        with open(arch, "w") as fh:
            json.dump(spec, fh)
        with self.assertRaisesRegex(convert.ConvertError, "name 'main.0.weight', which the converter folds"):
            convert.convert(src, self.path("x"), arch=arch)

    def test_state_dict_needs_arch(self):
        src = zip_file(self.tmp.name, "g.pt", synthetic_dcgan("seq"))
        rc, _, err = self.cli(src, self.path("x"))
        self.assertEqual(rc, 1)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("shaped like a DCGAN generator", err)
        self.assertIn("--arch dcgan", err)
        self.assertIn("--arch arch.json", err)
        self.assertFalse(os.path.exists(self.path("x")))
        other = zip_file(self.tmp.name, "o.pt", collections.OrderedDict(
            [("fc.weight", np.ones((3, 2), np.float32))]))
        rc, _, err = self.cli(other, self.path("y"))
        self.assertEqual(rc, 1)
        self.assertIn("records no architecture", err)
        self.assertNotIn("--arch dcgan", err)
        self.assertEqual(self.cli(src, self.path("x"), "--arch", "dcgan")[0], 0)

    def test_known_checkpoint_needs_no_arch(self):
        src = zip_file(self.tmp.name, "g.pt", synthetic_dcgan("seq"))
        sha = convert.sha256_file(src)
        saved = dict(convert.KNOWN_ARCHITECTURES)
        convert.KNOWN_ARCHITECTURES[sha] = "dcgan"
        try:
            self.assertEqual(self.cli(src, self.path("x"))[0], 0)
        finally:
            convert.KNOWN_ARCHITECTURES.clear()
            convert.KNOWN_ARCHITECTURES.update(saved)


class SafetensorsInputTest(TempDirMixin, unittest.TestCase):
    def wide_dcgan(self):
        """A 4-conv DCGAN in nn.Sequential naming main.0, main.1, main.4, …, main.12: sorted as
        text, main.12 would come before main.4."""
        rng = np.random.default_rng(5)
        chans = [6, 8, 6, 4, 3]
        sd = collections.OrderedDict()
        for i in range(4):
            sd[f"main.{4 * i}.weight"] = rng.standard_normal((chans[i], chans[i + 1], 4, 4)).astype(np.float32)
            if i < 3:
                c = chans[i + 1]
                bn = f"main.{4 * i + 1}"
                sd[f"{bn}.weight"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
                sd[f"{bn}.bias"] = rng.uniform(-0.5, 0.5, c).astype(np.float32)
                sd[f"{bn}.running_mean"] = rng.uniform(-0.5, 0.5, c).astype(np.float32)
                sd[f"{bn}.running_var"] = rng.uniform(0.5, 2, c).astype(np.float32)
                sd[f"{bn}.num_batches_tracked"] = np.array(5, np.int64)
        return sd

    def test_matches_the_pickle(self):
        sd = self.wide_dcgan()
        pt = zip_file(self.tmp.name, "g.pt", sd)
        st = st_file(self.tmp.name, "g.safetensors", sd)
        a = convert.convert(pt, self.path("a"), arch="dcgan", dtype="f32", source="s")
        b = convert.convert(st, self.path("b"), arch="dcgan", dtype="f32", source="s")
        self.assertEqual(a["layers"], b["layers"])
        self.assertEqual(a["output_shape"], [3, 32, 32])
        with open(self.path("a/weights.safetensors"), "rb") as fa, \
                open(self.path("b/weights.safetensors"), "rb") as fb:
            self.assertEqual(fa.read(), fb.read())
        # By content too: a safetensors file called .pt.
        renamed = self.path("g2.pt")
        os.rename(st, renamed)
        self.assertEqual(sorted(torch_checkpoint.load_state_dict(renamed)), sorted(
            torch_checkpoint.load_state_dict(pt)))

    def test_key_prefix_bf16_and_f64(self):
        bf = (np.array([1.5, -2.0, 3.0], np.float32).view(np.uint32) >> 16).astype(np.uint16)
        # The writer has no BF16: write 3 int16s and relabel them BF16 in the header.
        blob = bytearray(safetensors_np.encode({"netG.a": np.zeros(3, np.int16),
                                                "netG.b": np.arange(2, dtype=np.float64),
                                                "netD.c": np.ones(1, np.float32)}))
        (n,) = struct.unpack("<Q", blob[:8])
        header = json.loads(bytes(blob[8:8 + n]))
        header["netG.a"]["dtype"] = "BF16"
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        data = bytes(blob[8 + n:])
        begin, end = header["netG.a"]["data_offsets"]
        data = data[:begin] + bf.tobytes() + data[end:]
        path = self.path("m.safetensors")
        with open(path, "wb") as fh:
            fh.write(struct.pack("<Q", len(text)) + text + data)
        sd = torch_checkpoint.load_state_dict(path, key="netG")
        self.assertEqual(list(sd), ["a", "b"])
        np.testing.assert_array_equal(sd["a"], [1.5, -2.0, 3.0])
        self.assertEqual(sd["a"].dtype, np.float32)
        self.assertEqual(sd["b"].dtype, np.float64)
        self.assertEqual(len(torch_checkpoint.load_state_dict(path)), 3)
        with self.assertRaisesRegex(torch_checkpoint.CheckpointError, "starts with 'gen.'"):
            torch_checkpoint.load_state_dict(path, key="gen")

    def test_hostile_headers_are_one_line_errors(self):
        good = safetensors_np.encode({"w": np.ones((2, 2), np.float32)})
        (n,) = struct.unpack("<Q", good[:8])
        header = good[8:8 + n]

        def with_header(h: bytes, data: bytes = good[8 + n:]) -> bytes:
            return struct.pack("<Q", len(h)) + h + data

        cases = {
            "empty": (b"", "shorter than the 8-byte"),
            "huge length": (struct.pack("<Q", 1 << 62) + b"{}", "more than"),
            "length past the end": (struct.pack("<Q", 5000) + b'{"w": 1}', "exceeds the file size"),
            "not json": (with_header(b"{nope" + b" " * 3), "bad header JSON"),
            "offsets past the data": (with_header(header.replace(b"[0,16]", b"[0,99]")), "do not match"),
            "offsets beyond": (with_header(header.replace(b"[0,16]", b"[8,24]")), "do not match"),
            "gap": (with_header(header, good[8 + n:] + b"\0" * 8), "trailing bytes"),
            "duplicate key": (with_header(b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                          b'"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                                          b"\0" * 4), "duplicate key"),
            "huge shape": (with_header(b'{"w":{"dtype":"F32","shape":[0,1099511627777],'
                                       b'"data_offsets":[0,0]}}', b""), "larger than"),
            "dtype": (with_header(b'{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}',
                                  b"\0"), "unsupported dtype"),
        }
        for what, (data, pattern) in cases.items():
            with self.subTest(what):
                path = self.path(what.replace(" ", "_") + ".safetensors")
                with open(path, "wb") as fh:
                    fh.write(data)
                rc, _, err = self.cli(path, self.path("out"), "--arch", "dcgan")
                self.assertEqual(rc, 1)
                self.assertEqual(len(err.splitlines()), 1, err)
                self.assertIn(path, err)
                self.assertRegex(err, pattern)
                self.assertNotIn("unexpected", err)


if __name__ == "__main__":
    unittest.main()
