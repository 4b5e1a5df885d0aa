"""Tests for the Keras importer (tools/keras_import.py) through tools/convert.py.

    python3 -m unittest discover -s tests/tools -t .

Needs numpy and h5py, not Keras: the .keras/.h5 files and Keras' outputs in tests/fixtures were
written by Keras 3 itself (tools/make_keras_fixtures.py). The tf.keras 2 legacy layout is
rebuilt here with h5py from the Keras 3 fixture's weights, so it is checked against the same
Keras numbers.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import unittest
import zipfile

import numpy as np

try:
    import h5py
except ImportError:  # pragma: no cover
    h5py = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import convert  # noqa: E402
import keras_import  # noqa: E402
import reference_forward  # noqa: E402
from keras_import import KerasImportError  # noqa: E402


def fixture(name: str) -> str:
    return os.path.join(FIXTURES, name)


def convert_to(tc: unittest.TestCase, src: str, **kw) -> str:
    out = os.path.join(tc.tmp.name, os.path.basename(src).replace(".", "_"))
    convert.convert(src, out, dtype=kw.pop("dtype", "f32"), **kw)
    return out


def forward(folder: str, x: np.ndarray) -> np.ndarray:
    model, tensors = reference_forward.load_model(folder)
    return reference_forward.forward(model, tensors, x)


@unittest.skipIf(h5py is None, "h5py is not installed (pip install -r tools/requirements.txt)")
class KerasFixturesTest(unittest.TestCase):
    """Converted models against Keras' own outputs (float64 numpy reference)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def check(self, src: str, x: str, y: str, atol: float = 1e-5) -> dict:
        folder = convert_to(self, fixture(src))
        want = np.load(fixture(y))
        got = forward(folder, np.load(fixture(x)))
        self.assertEqual(got.shape, want.shape)
        diff = float(np.max(np.abs(got - want)))
        self.assertLess(diff, atol, f"{src}: max |diff| {diff}")
        with open(os.path.join(folder, "model.json"), encoding="utf-8") as fh:
            return json.load(fh)

    def test_generator_keras3(self):
        model = self.check("keras_generator.keras", "keras_generator_z.npy", "keras_generator_out.npy")
        self.assertEqual(model["latent_dim"], 100)
        self.assertEqual(model["output_shape"], [3, 56, 56])
        ops = [l["op"] for l in model["layers"]]
        self.assertEqual(ops, ["linear", "batch_norm", "leaky_relu", "reshape"]
                         + ["conv_transpose2d", "batch_norm", "leaky_relu"] * 3
                         + ["conv_transpose2d", "tanh"])
        layers = model["layers"]
        self.assertEqual(layers[3], {"op": "reshape", "shape": [16, 7, 7], "order": "channels_last"})
        self.assertEqual(layers[1]["eps"], 1e-3)
        self.assertEqual(layers[2]["slope"], 0.3)       # LeakyReLU() layer default
        self.assertEqual(layers[4]["padding"], [2, 2, 2, 2])   # 5x5 stride 1 'same'
        self.assertEqual(layers[7]["padding"], [1, 2, 1, 2])   # 5x5 stride 2 'same': asymmetric
        self.assertIsNone(layers[0]["bias"])
        self.assertIn("Keras 3.", model["description"])

    def test_generator_legacy_h5_written_by_keras3(self):
        self.check("keras_generator.h5", "keras_generator_z.npy", "keras_generator_out.npy")

    def test_discriminator(self):
        model = self.check("keras_discriminator.keras", "keras_discriminator_x.npy",
                           "keras_discriminator_out.npy")
        self.assertEqual(model["latent_dim"], 3 * 56 * 56)
        self.assertEqual(model["output_shape"], [1])
        self.assertEqual(model["layers"][0], {"op": "reshape", "shape": [3, 56, 56],
                                              "order": "channels_first"})
        flatten = [l for l in model["layers"] if l["op"] == "reshape"][1]
        self.assertEqual(flatten, {"op": "reshape", "shape": [16 * 14 * 14], "order": "channels_last"})

    def test_misc_layers(self):
        model = self.check("keras_misc.keras", "keras_misc_z.npy", "keras_misc_out.npy")
        by_weight = {l.get("weight", "").split(".")[0]: l for l in model["layers"] if l.get("weight")}
        self.assertEqual(by_weight["conv_same"]["padding"], [1, 2, 0, 1])
        self.assertEqual(by_weight["convt_op"]["padding"], [0, 1, 0, 1])
        self.assertEqual(by_weight["convt_k2s3"]["output_padding"], [1, 1])
        self.assertEqual(by_weight["convt_same_odd"]["padding"], [1, 1, 0, 0])
        bn = [l for l in model["layers"] if l["op"] == "batch_norm"][0]
        self.assertIsNone(bn["bias"])
        self.assertEqual(bn["eps"], 0.01)
        self.assertIn({"op": "leaky_relu", "slope": 0.1}, model["layers"])

    def test_committed_folders_are_current(self):
        # tests/keras_golden.rs loads these folders; they must be what convert.py makes now.
        for stem in ("keras_generator", "keras_discriminator"):
            folder = convert_to(self, fixture(stem + ".keras"))
            with open(os.path.join(folder, "weights.safetensors"), "rb") as fh:
                fresh = fh.read()
            with open(fixture(os.path.join(stem, "weights.safetensors")), "rb") as fh:
                committed = fh.read()
            self.assertEqual(fresh, committed, f"{stem}: rerun tools/make_keras_fixtures.py")
            with open(os.path.join(folder, "model.json"), encoding="utf-8") as fh:
                a = json.load(fh)
            with open(fixture(os.path.join(stem, "model.json")), encoding="utf-8") as fh:
                b = json.load(fh)
            self.assertEqual(a["layers"], b["layers"])

    def test_unsupported_layer_is_named(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = convert.main([fixture("keras_unsupported.keras"), os.path.join(self.tmp.name, "u")])
        self.assertEqual(rc, 1)
        self.assertIn("layer 'lstm' of type LSTM is not supported by webgan", err.getvalue())
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "u")))

    def test_arch_option_is_refused_for_keras(self):
        with self.assertRaisesRegex(convert.ConvertError, "stores its own architecture"):
            convert.convert(fixture("keras_generator.keras"), os.path.join(self.tmp.name, "g"),
                            arch="dcgan")

    def test_cli_without_arch(self):
        out = os.path.join(self.tmp.name, "cli")
        with contextlib.redirect_stdout(io.StringIO()) as o:
            self.assertEqual(convert.main([fixture("keras_generator.keras"), out]), 0)
        self.assertIn("output [3, 56, 56]", o.getvalue())
        with open(os.path.join(out, "model.json"), encoding="utf-8") as fh:
            self.assertEqual(json.load(fh)["weights"]["dtype"], "f16")

    def test_tf_keras2_legacy_h5(self):
        """The tf.keras 2 dialect: no InputLayer (batch_input_shape on the first layer),
        LeakyReLU with `alpha` (or none: 0.3), BN `axis: [1]`/`[3]`, weight names
        'dense/kernel:0', the config under a top-level "config" with "layers"."""
        with zipfile.ZipFile(fixture("keras_generator.keras")) as zf:
            config = json.loads(zf.read("config.json"))
            h5 = h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r")
        layers = [l for l in config["config"]["layers"] if l["class_name"] != "InputLayer"]
        legacy_layers = []
        path = os.path.join(self.tmp.name, "tfkeras2.h5")
        with h5py.File(path, "w") as f:
            f.attrs["keras_version"] = b"2.15.0"
            f.attrs["backend"] = b"tensorflow"
            mw = f.create_group("model_weights")
            names = []
            counts: dict[str, int] = {}
            for i, layer in enumerate(layers):
                cfg = dict(layer["config"])
                cls = layer["class_name"]
                # tf.keras 2 names: dense, batch_normalization_1, ...
                base = keras_import._snake(cls)
                n = counts.get(base, -1) + 1
                counts[base] = n
                group_path = base if n == 0 else f"{base}_{n}"
                name = {"Dense": "fc", "BatchNormalization": f"bn{n}"}.get(cls, group_path)
                cfg["name"] = name
                for k in ("dtype", "kernel_initializer", "bias_initializer"):
                    cfg.pop(k, None)
                if cls == "LeakyReLU":
                    slope = cfg.pop("negative_slope")
                    if n % 2 == 0:
                        cfg["alpha"] = slope       # written explicitly ...
                    # ... or left out: tf.keras 2's default alpha is 0.3 as well
                if cls == "BatchNormalization":
                    cfg["axis"] = [1] if i == 1 else [3]
                if i == 0:
                    cfg["batch_input_shape"] = [None, 100]
                legacy_layers.append({"class_name": cls, "config": cfg})
                g = mw.create_group(name)
                names.append(name.encode())
                src = h5["layers"][group_path]["vars"]
                wnames = {"Dense": ["kernel"], "Conv2DTranspose": ["kernel"],
                          "BatchNormalization": ["gamma", "beta", "moving_mean",
                                                 "moving_variance"]}.get(cls, [])
                full = [f"{name}/{w}:0" for w in wnames]
                g.attrs["weight_names"] = (np.array([w.encode() for w in full], dtype="S")
                                           if full else np.zeros(0))
                for k, w in enumerate(full):
                    g.create_dataset(w, data=src[str(k)][()])
            mw.attrs["layer_names"] = np.array(names, dtype="S")
            f.attrs["model_config"] = json.dumps(
                {"class_name": "Sequential",
                 "config": {"name": "generator", "layers": legacy_layers}}).encode()
        h5.close()
        folder = convert_to(self, path)
        got = forward(folder, np.load(fixture("keras_generator_z.npy")))
        want = np.load(fixture("keras_generator_out.npy"))
        self.assertLess(float(np.max(np.abs(got - want))), 1e-5)
        with open(os.path.join(folder, "model.json"), encoding="utf-8") as fh:
            model = json.load(fh)
        self.assertIn("Keras 2.15.0 legacy .h5", model["description"])
        self.assertEqual(model["layers"][0]["weight"], "fc.weight")

    def test_weights_only_h5(self):
        path = os.path.join(self.tmp.name, "w.h5")
        with h5py.File(path, "w") as f:
            f.create_group("dense").attrs["weight_names"] = np.array([b"dense/kernel:0"], dtype="S")
        with self.assertRaisesRegex(convert.ConvertError, "weights only"):
            convert.convert(path, os.path.join(self.tmp.name, "w"))

    def test_not_a_keras_zip(self):
        path = os.path.join(self.tmp.name, "x.keras")
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("config.json", "{}")
        with self.assertRaisesRegex(convert.ConvertError, "not a .keras model"):
            convert.convert(path, os.path.join(self.tmp.name, "x"))


def dense(name, units, **kw):
    return {"class_name": "Dense", "config": {"name": name, "units": units, **kw}}


def seq(*layers, shape=(4,)):
    return {"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "config": {"name": "in", "batch_shape": [None, *shape]}},
        *layers]}}


def no_weights(name, path):
    return []


class ConfigTest(unittest.TestCase):
    """keras_import.build on hand-written configs: mapping rules and error messages."""

    def weights(self, table):
        return lambda name, path: table.get(name, [])

    def test_padding_rules(self):
        # TF 'same' for convolutions
        self.assertEqual(keras_import._same_pad(56, 5, 2), (1, 2))
        self.assertEqual(keras_import._same_pad(7, 5, 1), (2, 2))
        self.assertEqual(keras_import._same_pad(8, 4, 2), (1, 1))
        self.assertEqual(keras_import._same_pad(5, 1, 2), (0, 0))
        # transposed: (crop before, crop after, extension)
        self.assertEqual(keras_import._transpose_crop(7, 5, 2, "same", None), (1, 2, 0))
        self.assertEqual(keras_import._transpose_crop(7, 5, 1, "same", None), (2, 2, 0))
        self.assertEqual(keras_import._transpose_crop(7, 4, 2, "same", None), (1, 1, 0))
        self.assertEqual(keras_import._transpose_crop(7, 3, 2, "same", None), (0, 1, 0))
        self.assertEqual(keras_import._transpose_crop(7, 1, 2, "same", None), (0, 0, 1))
        self.assertEqual(keras_import._transpose_crop(7, 2, 3, "valid", None), (0, 0, 1))
        self.assertEqual(keras_import._transpose_crop(7, 5, 2, "valid", None), (0, 0, 0))
        self.assertEqual(keras_import._transpose_crop(7, 5, 2, "same", 1), (1, 2, 0))
        self.assertEqual(keras_import._transpose_crop(7, 5, 2, "same", 0), (2, 2, 0))
        self.assertEqual(keras_import._transpose_crop(7, 3, 2, "valid", 1), (0, 0, 1))

    def test_layout_and_defaults(self):
        rng = np.random.default_rng(0)
        k = rng.standard_normal((4, 2 * 3 * 5)).astype(np.float32)
        conf = seq(dense("d", 30, use_bias=False, activation="leaky_relu"),
                   {"class_name": "LeakyReLU", "config": {"name": "l"}},
                   {"class_name": "Reshape", "config": {"name": "r", "target_shape": [2, 3, -1]}},
                   {"class_name": "Activation", "config": {"name": "a", "activation": {
                       "module": "keras.activations", "class_name": "function",
                       "config": "sigmoid", "registered_name": "function"}}},
                   {"class_name": "Flatten", "config": {"name": "f"}})
        state, spec = keras_import.build(conf, self.weights({"d": [k]}))
        ops = spec["layers"]
        np.testing.assert_array_equal(state["d.weight"], k.T)
        self.assertEqual(ops[1], {"op": "leaky_relu", "slope": 0.2})   # activation function
        self.assertEqual(ops[2], {"op": "leaky_relu", "slope": 0.3})   # layer default
        self.assertEqual(ops[3], {"op": "reshape", "shape": [5, 2, 3], "order": "channels_last"})
        self.assertEqual(ops[4], {"op": "sigmoid"})
        self.assertEqual(ops[5], {"op": "reshape", "shape": [30], "order": "channels_last"})
        # the converter accepts it, shapes and all
        layers, shape, used = convert.resolve_architecture(spec, state)
        self.assertEqual(shape, [30])

    def test_channels_first_model(self):
        k = np.zeros((3, 3, 5, 2), np.float32)  # (kh, kw, in, out)
        conf = seq({"class_name": "Reshape", "config": {"name": "r", "target_shape": [5, 2, 2]}},
                   {"class_name": "Conv2D", "config": {"name": "c", "filters": 2, "kernel_size": [3, 3],
                                                       "strides": [1, 1], "padding": "same",
                                                       "data_format": "channels_first",
                                                       "use_bias": False}},
                   {"class_name": "BatchNormalization", "config": {"name": "b", "axis": 1}},
                   {"class_name": "Flatten", "config": {"name": "f", "data_format": "channels_last"}},
                   shape=(20,))
        bn = [np.ones(2, np.float32)] * 4
        state, spec = keras_import.build(conf, self.weights({"c": [k], "b": bn}))
        self.assertEqual(spec["layers"][0], {"op": "reshape", "shape": [5, 2, 2], "order": "channels_first"})
        self.assertEqual(state["c.weight"].shape, (2, 5, 3, 3))
        self.assertEqual(spec["layers"][-1], {"op": "reshape", "shape": [8], "order": "channels_first"})

    def test_errors(self):
        k = np.zeros((4, 8), np.float32)
        cases = [
            (seq({"class_name": "Conv3D", "config": {"name": "vol"}}),
             "layer 'vol' of type Conv3D is not supported by webgan"),
            (seq(dense("d", 8, activation="softmax", use_bias=False)),
             "activation 'softmax' is not supported"),
            (seq({"class_name": "ReLU", "config": {"name": "r6", "max_value": 6.0}}), "ReLU6"),
            (seq({"class_name": "Sequential", "config": {"name": "inner", "layers": []}}),
             "nested Sequential model"),
            (seq({"class_name": "Reshape", "config": {"name": "r", "target_shape": [2, 2, 1]}},
                 {"class_name": "Conv2D", "config": {"name": "c", "filters": 1, "kernel_size": 1,
                                                     "dilation_rate": [2, 2]}}),
             "dilation_rate"),
            (seq({"class_name": "Reshape", "config": {"name": "r", "target_shape": [2, 2, 1]}},
                 {"class_name": "UpSampling2D", "config": {"name": "u", "size": 2,
                                                           "interpolation": "bilinear"}}),
             "bilinear"),
            (seq({"class_name": "Reshape", "config": {"name": "r", "target_shape": [3, 3]}}),
             "cannot reshape 4 values"),
            (seq(dense("d", 8), shape=(4,)), "expected 2 weight arrays"),
            ({"class_name": "MyGAN", "config": {}}, "not a Sequential or Functional model"),
            (seq({"class_name": "Reshape", "config": {"name": "r", "target_shape": [2, 2, 1]}},
                 dense("d", 3)), "add a Flatten"),
        ]
        for conf, message in cases:
            with self.subTest(message=message):
                with self.assertRaisesRegex(KerasImportError, message):
                    keras_import.build(conf, self.weights({"d": [k]}))

    def test_functional_chain(self):
        def node(prev):
            return [{"args": [{"class_name": "__keras_tensor__",
                               "config": {"keras_history": [prev, 0, 0]}}], "kwargs": {}}]
        k = np.ones((4, 3), np.float32)
        conf = {"class_name": "Functional", "config": {"name": "f", "layers": [
            {"class_name": "InputLayer", "name": "z", "config": {"name": "z", "batch_shape": [None, 4]},
             "inbound_nodes": []},
            {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 3, "use_bias": False},
             "inbound_nodes": node("z")},
            {"class_name": "Activation", "name": "t", "config": {"name": "t", "activation": "tanh"},
             "inbound_nodes": node("d")}]}}
        state, spec = keras_import.build(conf, self.weights({"d": [k]}))
        self.assertEqual([l["op"] for l in spec["layers"]], ["linear", "tanh"])
        # a branch (t reads z, not d) is refused; so is the tf.keras 2 spelling of it
        conf["config"]["layers"][2]["inbound_nodes"] = node("z")
        with self.assertRaisesRegex(KerasImportError, "single chain"):
            keras_import.build(conf, self.weights({"d": [k]}))
        conf["config"]["layers"][2]["inbound_nodes"] = [[["z", 0, 0, {}]]]
        with self.assertRaisesRegex(KerasImportError, r"reads \['z'\]"):
            keras_import.build(conf, self.weights({"d": [k]}))


if __name__ == "__main__":
    unittest.main()
