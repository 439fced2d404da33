"""The helper's bundle, show and save, checked by decoding what they write and comparing with the arrays given.

Run from python/: python3 -m unittest discover -s tests (npm run test:python does this).
"""

import base64
import json
import os
import struct
import sys
import tempfile
import types
import unittest
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import attention_inspector as ai  # noqa: E402


def decode(enc):
    """The renderer's reading of {"dtype", "shape", "data"}, in NumPy."""
    dt = {"float32": "<f4", "float16": "<f2"}[enc["dtype"]]
    raw = base64.b64decode(enc["data"], validate=True)
    return np.frombuffer(raw, dtype=dt).reshape(enc["shape"])


def softmax_maps(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


class FakeTensor:
    """Enough of torch.Tensor: numpy() refuses bf16, a tensor needing grad, and one on another device, as torch does."""

    def __init__(self, array, dtype="torch.float32", requires_grad=True, device="cuda:0"):
        self.array = np.asarray(array)
        self.dtype = dtype
        self.requires_grad = requires_grad
        self.device = device
        self.calls = []

    def detach(self):
        self.calls.append("detach")
        return FakeTensor(self.array, self.dtype, False, self.device)

    def cpu(self):
        return FakeTensor(self.array, self.dtype, self.requires_grad, "cpu")

    def float(self):
        # bf16 → float32 is exact: the array already holds the bf16 values.
        return FakeTensor(self.array.astype(np.float32), "torch.float32", self.requires_grad, self.device)

    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad")
        if self.device != "cpu":
            raise TypeError("can't convert cuda:0 device type tensor to numpy")
        if self.dtype == "torch.bfloat16":
            raise TypeError("Got unsupported ScalarType BFloat16")
        return self.array


def bf16_values(a):
    """Round float32 to the nearest bfloat16 (kept in float32), as a bf16 model's output holds."""
    bits = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return bits.astype(np.uint32).view(np.float32)


class BundleTest(unittest.TestCase):
    def setUp(self):
        self.rng = np.random.default_rng(18)

    def test_2d_map_with_tokens(self):
        a = softmax_maps(self.rng, (5, 5)).astype(np.float64)
        tokens = ["The", " cat", " sat", "<b>on</b>", "\n"]
        b = ai.bundle(a, tokens, title="one head")
        p = b[ai.MIME]
        self.assertEqual(p["version"], 1)
        self.assertEqual(p["title"], "one head")
        self.assertEqual(p["tokens"], tokens)
        self.assertEqual(p["weights"]["dtype"], "float32")
        np.testing.assert_array_equal(decode(p["weights"]), a.astype(np.float32))
        self.assertIn("5 queries × 5 keys", b["text/plain"])
        self.assertIn("' cat'", b["text/plain"])
        json.dumps(b)  # the bundle is JSON as it is

    def test_float16_stays_float16(self):
        a = softmax_maps(self.rng, (2, 3, 4, 4)).astype(np.float16)
        p = ai.payload(a)
        self.assertEqual(p["weights"]["dtype"], "float16")
        self.assertEqual(p["weights"]["shape"], [2, 3, 4, 4])
        np.testing.assert_array_equal(decode(p["weights"]), a)

    def test_transformers_tuple_stacks_layers_and_drops_the_batch_of_one(self):
        layers = [softmax_maps(self.rng, (1, 3, 6, 6)) for _ in range(4)]
        p = ai.payload(tuple(FakeTensor(x) for x in layers))
        self.assertEqual(p["weights"]["shape"], [4, 3, 6, 6])
        np.testing.assert_array_equal(decode(p["weights"]), np.stack(layers)[:, 0])

    def test_a_batch_needs_a_pick(self):
        layers = [softmax_maps(self.rng, (2, 3, 4, 4)) for _ in range(2)]
        with self.assertRaisesRegex(ValueError, "batch of 2"):
            ai.payload(layers)
        p = ai.payload(layers, batch=1)
        np.testing.assert_array_equal(decode(p["weights"]), np.stack(layers)[:, 1])

    def test_bf16_tensor_is_widened_with_float(self):
        a = bf16_values(softmax_maps(self.rng, (2, 7, 7)))
        t = FakeTensor(a, dtype="torch.bfloat16")
        p = ai.payload(t)
        self.assertEqual(p["weights"]["dtype"], "float32")
        np.testing.assert_array_equal(decode(p["weights"]), a)

    def test_transformer_lens_cache_in_layer_order(self):
        maps = {n: softmax_maps(self.rng, (1, 2, 3, 3)) for n in range(12)}
        cache = {f"blocks.{n}.attn.hook_pattern": FakeTensor(m) for n, m in maps.items()}
        cache["blocks.0.hook_resid_pre"] = FakeTensor(np.zeros((1, 3, 8)))
        p = ai.payload(cache)
        self.assertEqual(p["weights"]["shape"], [12, 2, 3, 3])
        # blocks.10 comes after blocks.2, not after blocks.1 as a string sort would put it.
        np.testing.assert_array_equal(decode(p["weights"]), np.stack([maps[n][0] for n in range(12)]))

    def test_qkv_payload(self):
        q = self.rng.standard_normal((3, 4)).astype(np.float32)
        k = self.rng.standard_normal((5, 4)).astype(np.float32)
        v = self.rng.standard_normal((5, 2)).astype(np.float32)
        p = ai.payload(q=q, k=k, v=v, value_labels=["x", "y"], causal=True)
        np.testing.assert_array_equal(decode(p["q"]), q)
        np.testing.assert_array_equal(decode(p["k"]), k)
        np.testing.assert_array_equal(decode(p["v"]), v)
        self.assertEqual(p["value_labels"], ["x", "y"])
        self.assertTrue(p["causal"])

    def test_tokens_must_be_strings_and_should_fit(self):
        a = softmax_maps(self.rng, (3, 3))
        with self.assertRaisesRegex(TypeError, r"tokens\[1\] is int"):
            ai.payload(a, ["a", 2, "c"])
        with self.assertRaisesRegex(TypeError, "not one string"):
            ai.payload(a, "abc")
        self.assertEqual(ai.payload(a, np.array(["a", "b", "c"]))["tokens"], ["a", "b", "c"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ai.payload(a, ["a", "b"])
        self.assertTrue(any("2 entries but the axis has 3" in str(w.message) for w in caught))

    def test_too_big_is_refused_before_copying(self):
        huge = np.broadcast_to(np.float32(0), (4096, 4097))  # no memory behind it
        with self.assertRaisesRegex(ValueError, "more than 16777216"):
            ai.payload(huge)

    def test_bad_inputs(self):
        with self.assertRaisesRegex(ValueError, "at most"):
            ai.payload(np.zeros((2, 2, 2, 2, 2, 2), np.float32))
        with self.assertRaisesRegex(TypeError, "complex"):
            ai.payload(np.zeros((2, 2), np.complex64))
        with self.assertRaisesRegex(ValueError, "q and k"):
            ai.payload()


class ShowTest(unittest.TestCase):
    def test_show_displays_the_raw_bundle(self):
        shown = []
        display_mod = types.ModuleType("IPython.display")
        display_mod.display = lambda obj, raw=False: shown.append((obj, raw))
        ipython = types.ModuleType("IPython")
        ipython.display = display_mod
        saved = {k: sys.modules.get(k) for k in ("IPython", "IPython.display")}
        sys.modules.update({"IPython": ipython, "IPython.display": display_mod})
        try:
            a = np.eye(3, dtype=np.float32)
            ai.show(a, ["a", "b", "c"], title="eye")
        finally:
            for k, v in saved.items():
                if v is None:
                    sys.modules.pop(k, None)
                else:
                    sys.modules[k] = v
        self.assertEqual(len(shown), 1)
        obj, raw = shown[0]
        self.assertTrue(raw)
        self.assertEqual(set(obj), {ai.MIME, "text/plain"})
        np.testing.assert_array_equal(decode(obj[ai.MIME]["weights"]), np.eye(3, dtype=np.float32))

    def test_show_without_ipython_says_so(self):
        saved = {k: sys.modules.get(k) for k in ("IPython", "IPython.display")}
        sys.modules["IPython"] = None  # makes the import fail
        sys.modules["IPython.display"] = None
        try:
            with self.assertRaisesRegex(ImportError, "needs IPython"):
                ai.show(np.eye(2))
        finally:
            for k, v in saved.items():
                if v is None:
                    sys.modules.pop(k, None)
                else:
                    sys.modules[k] = v


class SaveTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.a = softmax_maps(np.random.default_rng(5), (2, 3, 4, 4))
        self.tokens = ["<s>", " héllo", " wörld", "\n"]

    def tearDown(self):
        self.dir.cleanup()

    def test_npz(self):
        path = os.path.join(self.dir.name, "run.npz")
        ai.save(path, [FakeTensor(x[None]) for x in self.a], self.tokens)
        with np.load(path, allow_pickle=False) as z:
            self.assertEqual(sorted(z.files), ["attentions", "tokens"])
            np.testing.assert_array_equal(z["attentions"], self.a)
            self.assertEqual(z["tokens"].dtype.kind, "U")
            self.assertEqual(z["tokens"].tolist(), self.tokens)

    def test_safetensors_by_the_format(self):
        path = os.path.join(self.dir.name, "run.safetensors")
        ai.save(path, self.a.astype(np.float16), self.tokens)
        with open(path, "rb") as f:
            raw = f.read()
        (n,) = struct.unpack("<Q", raw[:8])
        self.assertEqual((8 + n) % 8, 0)
        header = json.loads(raw[8:8 + n].decode("utf-8"))
        t = header["attentions"]
        self.assertEqual(t["dtype"], "F16")
        self.assertEqual(t["shape"], [2, 3, 4, 4])
        begin, end = t["data_offsets"]
        self.assertEqual((begin, end), (0, len(raw) - 8 - n))  # the buffer ends exactly at the file's end
        data = np.frombuffer(raw[8 + n + begin:8 + n + end], "<f2").reshape(t["shape"])
        np.testing.assert_array_equal(data, self.a.astype(np.float16))
        self.assertEqual(json.loads(header["__metadata__"]["tokens"]), self.tokens)

    def test_other_suffixes_are_refused(self):
        with self.assertRaisesRegex(ValueError, "npz or .safetensors"):
            ai.save(os.path.join(self.dir.name, "run.pt"), self.a)


if __name__ == "__main__":
    unittest.main()
