#!/usr/bin/env python3
"""A careful NumPy reference for the long-context bench: O = softmax(Q Kᵀ · scale, causal) V for every row of one
head, 1024 query rows at a time (never n × n), float32 throughout, each block multiplying only the keys its rows can
see. Usage: numpy_stream_ref.py Q.npy K.npy V.npy OUT.npy [--block 1024] [--no-causal]
Prints the elapsed milliseconds of the whole script body (load, compute, save) as JSON on stdout.
"""
import json
import sys
import time

t0 = time.perf_counter()
import numpy as np  # noqa: E402  (timed: a whole-process comparison includes importing NumPy)


def main():
    args = sys.argv[1:]
    block = 1024
    causal = True
    if '--block' in args:
        i = args.index('--block')
        block = int(args[i + 1])
        del args[i:i + 2]
    if '--no-causal' in args:
        args.remove('--no-causal')
        causal = False
    q_file, k_file, v_file, out_file = args
    q = np.load(q_file)
    k = np.load(k_file)
    v = np.load(v_file)
    nq, d = q.shape
    nk = k.shape[0]
    offset = nk - nq
    scale = np.float32(1 / np.sqrt(d))
    out = np.empty((nq, v.shape[1]), dtype=np.float32)
    for i0 in range(0, nq, block):
        i1 = min(nq, i0 + block)
        lim = min(nk, i1 + offset) if causal else nk
        if lim <= 0:
            out[i0:i1] = 0
            continue
        s = q[i0:i1] @ k[:lim].T
        s *= scale
        if causal:
            # Key j is visible to row i iff j <= i + offset: mask the triangle at the block's end.
            cols = np.arange(lim)[None, :]
            rows = np.arange(i0, i1)[:, None] + offset
            s[cols > rows] = -np.inf
        m = s.max(axis=1, keepdims=True)
        dead = np.isneginf(m)
        s -= np.where(dead, 0, m)
        np.exp(s, out=s)
        tot = s.sum(axis=1, keepdims=True)
        s /= np.where(tot == 0, 1, tot)
        out[i0:i1] = s @ v[:lim]
    np.save(out_file, out)
    print(json.dumps({'ms': (time.perf_counter() - t0) * 1000}))


main()
