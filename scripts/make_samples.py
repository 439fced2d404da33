#!/usr/bin/env python3
"""Writes samples/: the worked examples users learn attention from (see ../shared/seeds/).

Run: python3 scripts/make_samples.py   (needs numpy; the outputs are committed, numpy is not a runtime dependency)
Each JSON sample carries a "description" saying what to look at; samples/README.md says it again.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'samples')
os.makedirs(OUT, exist_ok=True)


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def write_json(name, obj):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


def rows(a, digits=None):
    a = np.asarray(a, dtype=float)
    return np.round(a, digits).tolist() if digits is not None else a.tolist()


# 1. Colours: is the query colour warm or cool? (seed 000). The seed text prints Q = (83, 36, 120) beside numbers
# that in fact come from (133, 23, 220), which is what its code uses; we use the latter.
query_rgb = np.array([133, 23, 220], dtype=float)
key_rgb = np.array([[254, 240, 217], [253, 204, 138], [252, 141, 89], [215, 48, 31],
                    [246, 239, 247], [189, 201, 225], [103, 169, 207], [2, 129, 138]], dtype=float)
Q = query_rgb / 255.0
K = key_rgb / 255.0
V = np.array([[1, 0]] * 4 + [[0, 1]] * 4, dtype=float)
w = softmax(Q @ K.T / np.sqrt(3))
out = w @ V
assert np.allclose(np.round(w, 3), [0.150, 0.128, 0.114, 0.096, 0.158, 0.140, 0.121, 0.093]), w
assert np.allclose(np.round(out, 3), [0.488, 0.512]), out
hexes = ['#%02x%02x%02x' % tuple(int(c) for c in rgb) for rgb in key_rgb]
write_json('colours.attention.json', {
    'description': 'Is the query colour rgb(133, 23, 220) warm or cool? Q is one colour, K eight colours (4 warm, 4 cool), '
                   'RGB divided by 255; V says warm [1, 0] or cool [0, 1]. Weights: 0.150 0.128 0.114 0.096 0.158 0.140 '
                   '0.121 0.093; output 48.8% warm, 51.2% cool. Hover a cell for its weight; click the row for the breakdown.',
    'Q': rows(Q),
    'K': rows(K),
    'V': rows(V),
    'scale': 'sqrt',
    'queryLabels': ['#%02x%02x%02x' % tuple(int(c) for c in query_rgb)],
    'keyLabels': hexes,
    'valueLabels': ['warm', 'cool'],
})

# 2. Key-value lookup by meaning (seed 002): "fruit" against apple / banana / chair with scalar values 10 / 5 / 2.
# The word vectors are written out (the seed draws them at random); fruit sits between apple and banana, far from chair.
words = {
    'fruit': [0.9, 0.8, 0.1, 0.0],
    'apple': [1.0, 0.6, 0.0, 0.1],
    'banana': [0.7, 1.0, 0.2, 0.0],
    'chair': [-0.6, -0.4, 0.1, 1.0],
}
write_json('fruit-lookup.attention.json', {
    'description': 'A dictionary lookup by meaning: the query "fruit" matches apple and banana more than chair, so the '
                   'output is a blend of their values 10 and 5, not 2. Q is a single vector and V holds scalar values.',
    'Q': words['fruit'],
    'K': [words['apple'], words['banana'], words['chair']],
    'V': [10, 5, 2],
    'scale': 'sqrt',
    'queryLabels': ['fruit'],
    'keyLabels': ['apple', 'banana', 'chair'],
    'valueLabels': ['value'],
})

# 3. Car features (seed 003): Q relates 8 features to each other, K says how present each feature is,
# V how much each weighs in "is this a car?".
features = ['headlights', 'windscreen wipers', '<3 wheels', '3 wheels', '4 wheels', '>4 wheels', 'radiator grill', 'handlebars']
Qcar = [[1, 0, 0.5, 1, 1, 0, 1, 0],
        [0, 1, 0, 1, 1, 1, 0, 0],
        [0.5, 0, 0.5, 0, 0, 0, 0, 1],
        [1, 1, 0, 1, 0, 0, 1, 0],
        [1, 1, 0, 0, 1, 0, 1, 0],
        [0, 1, 0, 0, 0, 1, 0, 0],
        [1, 0, 0, 0, 1, 0, 1, 0],
        [0, 0, 1, 0, 0, 0, 0, 1]]
write_json('car-features.attention.json', {
    'description': 'Is this a car? Eight features attend to each other: Q row i says which features matter when looking at '
                   'feature i (handlebars look at "<3 wheels"). K says how strongly each feature was seen, V how much '
                   'it counts. Compare the rows for "4 wheels" and "handlebars".',
    'Q': Qcar,
    # The seed gives K as one presence value per feature; key j is feature j's axis scaled by it, so score_ij = Q_ij * k_j.
    'K': np.diag([0.8, 0.66, 0.07, 0.35, 0.96, 0.05, 0.75, 0.00]).tolist(),
    'V': [0.6, 0.9, 0.05, 0.25, 0.95, 0.01, 0.5, 0.01],
    'scale': 'none',
    'queryLabels': features,
    'keyLabels': features,
    'valueLabels': ['car-ness'],
})

# 4. Self-attention over a sentence: K and V default to Q; a causal mask as in a decoder.
rng = np.random.default_rng(7)
tokens = ['The', 'river', 'bank', 'was', 'muddy', 'after', 'the', 'rain']
emb = rng.normal(size=(len(tokens), 6))
emb[2] += 0.8 * emb[1]   # "bank" leans towards "river": the context that decides its meaning
emb[4] += 0.6 * emb[7]   # "muddy" and "rain" go together
write_json('sentence.attention.json', {
    'description': 'Self-attention over a sentence with a causal mask: each token looks only at itself and earlier tokens '
                   '(K and V default to Q). "bank" leans on "river"; switch the mask to none and see "muddy" find "rain".',
    'Q': rows(emb, 4),
    'mask': 'causal',
    'queryLabels': tokens,
    'keyLabels': tokens,
})

# 5. Multi-head attention with projections: X [n, d_model], W_Q/W_K/W_V/W_O [d_model, d_model], 2 heads.
d_model, heads = 4, 2
Xmh = rng.normal(size=(5, d_model))
mats = {name: rng.normal(scale=0.7, size=(d_model, d_model)) for name in ['Wq', 'Wk', 'Wv', 'Wo']}
write_json('multi-head.attention.json', {
    'description': 'Multi-head self-attention: X is projected by W_Q, W_K, W_V (Q = X·W_Q), split into 2 heads of width 2, '
                   'each head attends on its own, and the heads are concatenated and projected by W_O. Open a head from the grid.',
    'X': rows(Xmh, 4),
    **{k: rows(v, 4) for k, v in mats.items()},
    'heads': heads,
    'queryLabels': ['I', 'saw', 'her', 'duck', '.'],
    'keyLabels': ['I', 'saw', 'her', 'duck', '.'],
})

# 6. A [layers, heads, n, n] attention dump, as a model's forward pass with output_attentions would save it.
L, H, n = 2, 4, 10
scores = rng.normal(size=(L, H, n, n)).astype(np.float32)
scores[0, 0] += 4 * np.eye(n, dtype=np.float32)            # a "self" head
scores[0, 1] += 4 * np.eye(n, k=-1, dtype=np.float32)      # a "previous token" head
scores[1, 2][:, 0] += 4                                    # a "first token" (sink) head
causal = np.tril(np.ones((n, n), dtype=bool))
scores = np.where(causal, scores, -np.inf)
dump = softmax(scores).astype(np.float32)
np.save(os.path.join(OUT, 'attention-dump.npy'), dump)

# 7. A Q/K/V bundle in .npz and a JSON manifest that ties it together.
nq, nk, dk = 6, 9, 8
np.savez_compressed(os.path.join(OUT, 'qkv-bundle.npz'),
                    q=rng.normal(size=(nq, dk)).astype(np.float32),
                    k=rng.normal(size=(nk, dk)).astype(np.float32),
                    v=rng.normal(size=(nk, 4)).astype(np.float32))
write_json('manifest.attention.json', {
    'description': 'Cross-attention from files: a small JSON manifest points at members of qkv-bundle.npz '
                   '(6 queries against 9 keys). The same works with .npy files of any size.',
    'Q': 'qkv-bundle.npz#q',
    'K': 'qkv-bundle.npz#k',
    'V': 'qkv-bundle.npz#v',
    'similarity': 'dot',
    'scale': 'sqrt',
})
# 8. A model run with its tokens, as people save it from transformers (output_attentions=True): a
# [layers, heads, T, T] dump beside the tokens, once as .npz and once as bfloat16 safetensors (tokens in its
# __metadata__ as JSON, since safetensors holds numbers only). The heads are the textbook ones: previous token,
# attention sink (first token), the current token, and "it" resolving to "cat".
tokens = ['<|endoftext|>', 'The', 'Ġcat', 'Ġsat', 'Ġon', 'Ġthe', 'Ġmat', 'Ġbecause', 'Ġit', 'Ġwas', 'Ġtired', '.']
T = len(tokens)
L, H = 3, 4
scores = rng.normal(scale=0.5, size=(L, H, T, T)).astype(np.float32)
scores[:, 0] += 5 * np.eye(T, k=-1, dtype=np.float32)      # previous-token heads
scores[:, 1, :, 0] += 5                                     # attention sink on the first token
scores[0, 2] += 5 * np.eye(T, dtype=np.float32)             # the current token
scores[2, 3, tokens.index('Ġit'), tokens.index('Ġcat')] += 8  # "it" → "cat"
scores[2, 3, tokens.index('Ġtired'), tokens.index('Ġcat')] += 5
scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
run = softmax(scores).astype(np.float32)
np.savez(os.path.join(OUT, 'run-with-tokens.npz'), attentions=run, tokens=np.array(tokens))


def bf16_bits(a):
    """float32 -> bfloat16 bits, round to nearest even (what torch's .to(torch.bfloat16) does)."""
    u = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype('<u2')


def save_safetensors(path, tensors, metadata):
    """The safetensors layout, as safetensors.numpy.save_file writes it: u64 header length, JSON, data."""
    header, offset, blobs = {'__metadata__': metadata}, 0, []
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(len(text).to_bytes(8, 'little') + text + b''.join(blobs))


save_safetensors(os.path.join(OUT, 'run-with-tokens.safetensors'),
                 {'attentions': ('BF16', run.shape, bf16_bits(run).tobytes())},
                 {'tokens': json.dumps(tokens), 'format': 'pt'})

print('wrote', sorted(os.listdir(OUT)))
