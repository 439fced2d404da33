#!/usr/bin/env python3
"""Reference values for the attention engine, computed by NumPy in float64.

Writes test/fixtures/engine/cases.json (inputs, options and expected scores, scaled scores, weights,
per-head outputs and output for every variant) and a few .npy files the CLI tests read.
Run from the repository root: python3 scripts/make_engine_fixtures.py
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'engine')
rng = np.random.default_rng(20240611)


def safe_softmax(s):
    """Row softmax with the row max subtracted; fully masked rows (all -inf) give zeros, never NaN."""
    s = np.asarray(s, dtype=np.float64)
    m = s.max(axis=-1, keepdims=True)
    dead = np.isneginf(m)
    e = np.exp(s - np.where(dead, 0.0, m))
    e = np.where(np.isneginf(s), 0.0, e)
    tot = e.sum(axis=-1, keepdims=True)
    return np.where(dead, 0.0, e / np.where(tot == 0, 1.0, tot))


def similarity(q, k, kind):
    if kind == 'dot':
        return q @ k.T
    if kind == 'cosine':
        qn = np.linalg.norm(q, axis=1, keepdims=True)
        kn = np.linalg.norm(k, axis=1, keepdims=True)
        den = qn @ kn.T
        return np.where(den == 0, 0.0, (q @ k.T) / np.where(den == 0, 1.0, den))
    if kind == 'laplacian':
        return -np.abs(q[:, None, :] - k[None, :, :]).sum(axis=2)
    if kind == 'euclidean':
        return -((q[:, None, :] - k[None, :, :]) ** 2).sum(axis=2)
    raise ValueError(kind)


def scale_factor(scale, kind, dk):
    if isinstance(scale, (int, float)):
        return float(scale)
    if kind != 'dot':
        return 1.0
    return {'sqrt': 1 / np.sqrt(dk), 'dk': 1 / dk, 'none': 1.0}[scale or 'sqrt']


def attention(q, k=None, v=None, sim='dot', scale=None, mask=None, heads=1, wq=None, wk=None, wv=None, wo=None):
    q_vec = q.ndim == 1
    Q = q[None, :] if q_vec else q
    K = Q if k is None else k
    V = Q if v is None else (v[:, None] if v.ndim == 1 else v)
    if wq is not None:
        Q = Q @ wq
    if wk is not None:
        K = K @ wk
    if wv is not None:
        V = V @ wv
    nq, nk = Q.shape[0], K.shape[0]
    dk, dv = Q.shape[1] // heads, V.shape[1] // heads
    sf = scale_factor(scale, sim, dk)
    scores, scaled, weights, outs = [], [], [], []
    for h in range(heads):
        qh, kh, vh = Q[:, h * dk:(h + 1) * dk], K[:, h * dk:(h + 1) * dk], V[:, h * dv:(h + 1) * dv]
        s = similarity(qh, kh, sim)
        x = s * sf
        if mask is not None:
            allow = mask[h] if mask.ndim == 3 else mask.reshape(nq, nk)
            x = np.where(allow != 0, x, -np.inf)
        w = safe_softmax(x)
        scores.append(s)
        scaled.append(x)
        weights.append(w)
        outs.append(w @ vh)
    out = np.concatenate(outs, axis=1)
    if wo is not None:
        out = out @ wo
    return {
        'scores': np.stack(scores), 'scaled': np.stack(scaled), 'weights': np.stack(weights),
        'headOutputs': np.stack(outs), 'output': out, 'scaleFactor': sf,
    }


def enc(a):
    """Arrays as {shape, data}; -inf as the string "-inf" because JSON has no infinities."""
    a = np.asarray(a, dtype=np.float64)
    return {'shape': list(a.shape), 'data': ['-inf' if np.isneginf(x) else float(x) for x in a.ravel()]}


cases = {}


def case(name, inputs, **opts):
    arrays = {key: val for key, val in inputs.items()}
    res = attention(**{**arrays, **opts})
    cases[name] = {
        'inputs': {key: enc(val) for key, val in arrays.items()},
        'options': {key: (val.tolist() if isinstance(val, np.ndarray) else val) for key, val in opts.items() if key != 'mask'},
        'mask': enc(opts['mask']) if isinstance(opts.get('mask'), np.ndarray) else None,
        'expected': {key: (val if key == 'scaleFactor' else enc(val)) for key, val in res.items()},
    }


# The seed's colour example: one RGB query against eight colours, values warm (1,0) / cool (0,1).
seed_q = np.array([133, 23, 220], dtype=np.float64) / 255
seed_k = np.array([[254, 240, 217], [253, 204, 138], [252, 141, 89], [215, 48, 31],
                   [246, 239, 247], [189, 201, 225], [103, 169, 207], [2, 129, 138]], dtype=np.float64) / 255
seed_v = np.array([[1, 0]] * 4 + [[0, 1]] * 4, dtype=np.float64)
case('seed_colour', {'q': seed_q, 'k': seed_k, 'v': seed_v}, scale='sqrt')

# Very large scores: softmax([30, 20, 10]) must not overflow.
case('large_scores', {'q': np.array([[1.0]]), 'k': np.array([[30.0], [20.0], [10.0]]), 'v': np.eye(3)}, scale='none')

q = rng.standard_normal((5, 3))
k = rng.standard_normal((7, 3))
v = rng.standard_normal((7, 4))
for sc in ['sqrt', 'dk', 'none', 0.7]:
    case(f'dot_scale_{sc}', {'q': q, 'k': k, 'v': v}, scale=sc)
for sim in ['cosine', 'laplacian', 'euclidean']:
    case(f'{sim}_default', {'q': q, 'k': k, 'v': v}, sim=sim)
    case(f'{sim}_scale_2', {'q': q, 'k': k, 'v': v}, sim=sim, scale=2.0)

# Self-attention (K, V default to Q), causal.
x = rng.standard_normal((6, 4))
case('self_default', {'q': x})
causal6 = np.tril(np.ones((6, 6)))
case('self_causal', {'q': x}, mask=causal6)
# Causal with n_q < n_k is aligned at the end: query i sees keys j <= i + (n_k - n_q).
causal35 = (np.arange(5)[None, :] <= np.arange(3)[:, None] + 2).astype(float)
case('causal_3x5', {'q': rng.standard_normal((3, 4)), 'k': rng.standard_normal((5, 4)), 'v': rng.standard_normal((5, 2))},
     mask=causal35)
# Explicit mask with a fully masked row.
m = (rng.random((5, 7)) > 0.4).astype(float)
m[2, :] = 0
case('explicit_mask', {'q': q, 'k': k, 'v': v}, mask=m)

# Scalar values (1-D V), a single query (1-D Q).
case('scalar_values', {'q': rng.standard_normal(3), 'k': k, 'v': rng.standard_normal(7)})

# Cross-attention.
case('cross', {'q': rng.standard_normal((4, 6)), 'k': rng.standard_normal((9, 6)), 'v': rng.standard_normal((9, 3))})

# Projections and heads: X [5, 8], W_* [8, 8], W_O [8, 6], 2 heads.
X = rng.standard_normal((5, 8))
W = {name: rng.standard_normal((8, 8)) / np.sqrt(8) for name in ['wq', 'wk', 'wv']}
WO = rng.standard_normal((8, 6)) / np.sqrt(8)
case('heads_projected', {'q': X, **W, 'wo': WO}, heads=2)
case('heads_projected_causal', {'q': X, **W}, heads=4, mask=np.tril(np.ones((5, 5))))
case('heads_split_only', {'q': X}, heads=2)

# Stats: rollout over a [3, 2, 5, 5] dump of row-stochastic maps; entropy of rows.
dump = safe_softmax(rng.standard_normal((3, 2, 5, 5)) * 2)
rolled = None
for layer in range(3):
    a = 0.5 * dump[layer].mean(axis=0) + 0.5 * np.eye(5)
    a = a / a.sum(axis=1, keepdims=True)
    rolled = a if rolled is None else a @ rolled
w = cases['dot_scale_sqrt']['expected']['weights']
wts = np.array(w['data'], dtype=np.float64).reshape(w['shape'])[0]
stats = {
    'dump': enc(dump),
    'rollout': enc(rolled),
    'headMean': enc(dump.mean(axis=1)),
    'headMax': enc(dump.max(axis=1)),
    'weights': enc(wts),
    'entropy': enc(-(wts * np.log(wts)).sum(axis=1)),
}

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, 'cases.json'), 'w') as f:
    json.dump({'cases': cases, 'stats': stats}, f, separators=(',', ':'))

# .npy inputs for the CLI tests (float32, as a model dump would be).
np.save(os.path.join(OUT, 'seed_q.npy'), seed_q.astype(np.float32))
np.save(os.path.join(OUT, 'seed_k.npy'), seed_k.astype(np.float32))
np.save(os.path.join(OUT, 'seed_v.npy'), seed_v.astype(np.float32))
np.save(os.path.join(OUT, 'x.npy'), X.astype(np.float32))
for name, val in W.items():
    np.save(os.path.join(OUT, f'{name}.npy'), val.astype(np.float32))
np.save(os.path.join(OUT, 'wo.npy'), WO.astype(np.float32))
np.save(os.path.join(OUT, 'k_bad_width.npy'), rng.standard_normal((8, 2)).astype(np.float32))
np.save(os.path.join(OUT, 'v_7rows.npy'), rng.standard_normal((7, 2)).astype(np.float32))
np.save(os.path.join(OUT, 'mask_4x4.npy'), np.tril(np.ones((4, 4), dtype=bool)))
print('wrote', len(cases), 'cases to', os.path.normpath(OUT))

# A JSON attention spec naming the .npy files (for `compute --q spec.json`).
with open(os.path.join(OUT, 'seed.attention.json'), 'w') as f:
    json.dump({'description': 'seed colour example', 'Q': 'seed_q.npy', 'K': 'seed_k.npy', 'V': 'seed_v.npy',
               'scale': 'sqrt', 'keyLabels': ['w1', 'w2', 'w3', 'w4', 'c1', 'c2', 'c3', 'c4']}, f, indent=1)
