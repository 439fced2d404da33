"""Show attention maps inline in VS Code notebooks (with the Attention Inspector extension).

    import attention_inspector as ai
    ai.show(attn, tokens)            # the heatmap in the cell output
    ai.bundle(attn, tokens)          # the same output as a dict {mime: payload, "text/plain": summary}
    ai.save("run.npz", attn, tokens) # or "run.safetensors": files the extension opens with the tokens on the axes

`attn` may be a numpy array, a torch tensor (anything with .detach().cpu().numpy(); bfloat16 is widened to
float32), the tuple of per-layer tensors `transformers` returns with output_attentions=True, or a
TransformerLens ActivationCache (its blocks.N.attn.hook_pattern entries). Pure Python; needs only numpy.
"""

import base64
import json
import os
import re
import struct
import warnings

import numpy as np

__all__ = ["MIME", "MAX_VALUES", "show", "bundle", "payload", "save", "to_numpy", "attention_array"]
__version__ = "0.1.0"

MIME = "application/vnd.attention-inspector.v1+json"
# The renderer refuses arrays above this many values (64 MiB as float32); keep outputs well below it.
MAX_VALUES = 1 << 24

_PATTERN_KEY = re.compile(r"^blocks\.(\d+)\.attn\.hook_pattern$")


def to_numpy(x):
    """A numpy array from a numpy array, a torch tensor (bf16 → float32), or nested lists."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):
        t = x.detach()
        # numpy has no bfloat16: widen on the torch side first, exactly (bf16 is a truncated float32).
        if "bfloat16" in str(getattr(t, "dtype", "")) and hasattr(t, "float"):
            t = t.float()
        if hasattr(t, "cpu"):
            t = t.cpu()
        return np.asarray(t.numpy())
    return np.asarray(x)


def _is_cache(x):
    return hasattr(x, "keys") and callable(x.keys) and hasattr(x, "__getitem__") and not isinstance(x, np.ndarray)


def _from_cache(cache):
    """Stack a TransformerLens cache's per-layer patterns ([batch, H, T, T] each) along a new layer axis."""
    layers = []
    for key in cache.keys():
        m = _PATTERN_KEY.match(str(key))
        if m:
            layers.append((int(m.group(1)), key))
    if not layers:
        raise TypeError("this mapping has no 'blocks.N.attn.hook_pattern' entries (a TransformerLens cache was expected)")
    layers.sort()
    return [cache[key] for _, key in layers]


def attention_array(attentions, batch=None):
    """The attention as one numpy array of at most 4 axes [layers, heads, n_q, n_k] (fewer for fewer).

    A tuple/list of per-layer tensors (transformers' `outputs.attentions`, each [batch, H, T, T]) and a
    TransformerLens cache are stacked along a new layer axis. A batch axis (axis 1 of a 5-D stack) of size 1 is
    dropped; a larger batch needs `batch=i`.
    """
    if _is_cache(attentions):
        attentions = _from_cache(attentions)
    if isinstance(attentions, (list, tuple)) and attentions and not isinstance(attentions[0], (list, tuple, int, float)):
        parts = [to_numpy(a) for a in attentions]
        shapes = {p.shape for p in parts}
        if len(shapes) != 1:
            raise ValueError(f"the layers have different shapes {sorted(shapes)}; they cannot be stacked")
        a = np.stack(parts, axis=0)
    else:
        a = to_numpy(attentions)
    if a.dtype.kind == "c":
        raise TypeError("complex attention cannot be shown")
    if a.dtype.kind not in "fiub":
        raise TypeError(f"attention must be numbers, not dtype {a.dtype}")
    if a.ndim == 0:
        a = a.reshape(1, 1)
    if a.ndim == 5:
        # [layers, batch, heads, n_q, n_k]: torch.stack(outputs.attentions) and stacked TransformerLens patterns.
        if batch is not None:
            a = a[:, batch]
        elif a.shape[1] == 1:
            a = a[:, 0]
        else:
            raise ValueError(f"attention of shape {list(a.shape)} has a batch of {a.shape[1]} (axis 1): pass batch=i to pick one")
    elif batch is not None:
        raise ValueError(f"batch= needs a 5-D [layers, batch, heads, n_q, n_k] attention, not shape {list(a.shape)}")
    if a.ndim > 4:
        raise ValueError(f"attention of shape {list(a.shape)} has {a.ndim} axes; at most [layers, heads, n_q, n_k] is shown")
    if a.size > MAX_VALUES:
        raise ValueError(f"attention of shape {list(a.shape)} has {a.size} values, more than {MAX_VALUES}: show fewer layers or heads")
    if a.dtype != np.float16:
        a = a.astype(np.float32, copy=False)
    return a


def _encode(a):
    """{"dtype", "shape", "data"}: C-order little-endian bytes in base64 (float16 stays float16, all else float32)."""
    dt = "<f2" if a.dtype == np.float16 else "<f4"
    raw = np.ascontiguousarray(a, dtype=dt).tobytes()
    return {"dtype": "float16" if dt == "<f2" else "float32", "shape": [int(d) for d in a.shape], "data": base64.b64encode(raw).decode("ascii")}


def _strings(x, name):
    if x is None:
        return None
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, str):
        raise TypeError(f"{name} must be a list of strings, not one string (e.g. tokenizer.convert_ids_to_tokens(ids))")
    out = []
    for i, t in enumerate(x):
        if isinstance(t, bytes):
            t = t.decode("utf-8", errors="replace")
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] is {type(t).__name__}: tokens must be strings (e.g. tokenizer.convert_ids_to_tokens(ids))")
        out.append(str(t))
    return out


def _check_length(labels, n, name):
    if labels is not None and len(labels) != n:
        warnings.warn(f"{name} has {len(labels)} entries but the axis has {n}; the renderer will not show them", stacklevel=3)


def payload(attentions=None, tokens=None, title=None, *, query_tokens=None, key_tokens=None, value_labels=None,
            axes=None, batch=None, q=None, k=None, v=None, causal=False):
    """The `application/vnd.attention-inspector.v1+json` payload (a JSON-ready dict)."""
    p = {"version": 1}
    if title is not None:
        p["title"] = str(title)
    if attentions is not None:
        a = attention_array(attentions, batch=batch)
        p["weights"] = _encode(a)
        rows, cols = (a.shape[-2], a.shape[-1]) if a.ndim >= 2 else (1, a.shape[-1])
        if axes is not None:
            axes = [str(n) for n in axes]
            if len(axes) != a.ndim:
                raise ValueError(f"axes names {len(axes)} axes but the attention has {a.ndim}")
            p["axes"] = axes
    elif q is not None and k is not None:
        for name, x in (("q", q), ("k", k), ("v", v)):
            if x is not None:
                arr = to_numpy(x)
                arr = arr.astype(np.float16 if arr.dtype == np.float16 else np.float32, copy=False)
                p[name] = _encode(arr)
        rows, cols = to_numpy(q).shape[-2], to_numpy(k).shape[-2]
        if causal:
            p["causal"] = True
        if value_labels is not None:
            p["value_labels"] = _strings(value_labels, "value_labels")
    else:
        raise ValueError("give the attention weights, or q and k to compute them from")
    tokens = _strings(tokens, "tokens")
    query_tokens = _strings(query_tokens, "query_tokens")
    key_tokens = _strings(key_tokens, "key_tokens")
    if tokens is not None:
        p["tokens"] = tokens
        if query_tokens is None and key_tokens is None:
            _check_length(tokens, rows, "tokens")
            if rows != cols:
                _check_length(tokens, cols, "tokens")
    if query_tokens is not None:
        p["query_tokens"] = query_tokens
        _check_length(query_tokens, rows, "query_tokens")
    if key_tokens is not None:
        p["key_tokens"] = key_tokens
        _check_length(key_tokens, cols, "key_tokens")
    return p


def _summary(p):
    """What a notebook without the extension shows instead of the heatmap."""
    title = p.get("title", "attention")
    if "weights" in p:
        shape = p["weights"]["shape"]
        names = ["layers", "heads", "queries", "keys"][4 - len(shape):] if len(shape) <= 4 else []
        what = " × ".join(f"{n} {name}" for n, name in zip(shape, names)) + f" ({p['weights']['dtype']})"
    else:
        what = f"computed from q {p['q']['shape']} and k {p['k']['shape']}" + (f" and v {p['v']['shape']}" if "v" in p else "")
    lines = [f"Attention Inspector: {title} — attention {what}"]
    tokens = p.get("tokens") or p.get("query_tokens")
    if tokens:
        shown = ", ".join(repr(t) for t in tokens[:8]) + (", …" if len(tokens) > 8 else "")
        lines.append(f"tokens ({len(tokens)}): {shown}")
    lines.append("(the Attention Inspector extension for VS Code draws this output as an interactive heatmap)")
    return "\n".join(lines)


def bundle(attentions=None, tokens=None, title=None, **kwargs):
    """The mime bundle: {MIME: payload, "text/plain": summary}. Keyword arguments as for `payload`."""
    p = payload(attentions, tokens, title, **kwargs)
    return {MIME: p, "text/plain": _summary(p)}


def show(attentions=None, tokens=None, title=None, **kwargs):
    """Display the attention inline in the current Jupyter/IPython output."""
    b = bundle(attentions, tokens, title, **kwargs)
    try:
        from IPython.display import display  # imported here: bundle() and save() need no IPython
    except ImportError as e:
        raise ImportError("show() needs IPython (run it in a Jupyter kernel); bundle() and save() work without it") from e
    display(b, raw=True)


_SAFETENSORS_DTYPES = {np.dtype("<f4"): "F32", np.dtype("<f2"): "F16"}


def save(path, attentions, tokens=None, *, batch=None):
    """Write `.npz` (members `attentions` and `tokens`, a unicode array) or `.safetensors` (tensor `attentions`,
    tokens as a JSON array in `__metadata__["tokens"]`), the files the extension opens with the tokens on the axes.
    """
    path = os.fspath(path)
    a = attention_array(attentions, batch=batch)
    tokens = _strings(tokens, "tokens")
    if tokens is not None and a.ndim >= 1:
        _check_length(tokens, a.shape[-1], "tokens")
    lower = path.lower()
    if lower.endswith(".npz"):
        members = {"attentions": a}
        if tokens is not None:
            members["tokens"] = np.array(tokens, dtype=str)
        np.savez(path, **members)
    elif lower.endswith(".safetensors"):
        _save_safetensors(path, a, tokens)
    else:
        raise ValueError(f"save() writes .npz or .safetensors, not {path!r}")


def _save_safetensors(path, a, tokens):
    """The safetensors layout by hand: u64 LE header length, JSON header (space-padded to 8 bytes), then the data."""
    dt = np.dtype("<f2") if a.dtype == np.float16 else np.dtype("<f4")  # attention_array gives only these two
    data = np.ascontiguousarray(a, dtype=dt).tobytes()
    header = {"attentions": {"dtype": _SAFETENSORS_DTYPES[dt], "shape": [int(d) for d in a.shape], "data_offsets": [0, len(data)]}}
    if tokens is not None:
        header["__metadata__"] = {"tokens": json.dumps(tokens, ensure_ascii=False)}
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(data)
