#!/usr/bin/env python3
"""Writes samples/attention.ipynb, whose saved outputs the Python helper (python/attention_inspector) made, and
test/fixtures/notebook/malformed.ipynb (a malformed payload between two good outputs, for the error journey).

Each code cell's source is run here, as a kernel would run it, with IPython's display() recording what
ai.show() displays: the saved outputs are exactly what the helper gives for that code. nbformat is not needed;
the notebook JSON (nbformat 4.5) is written by hand.
Run: python3 samples/make_notebook.py   (needs numpy)
"""
import copy
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "python"))


class Recorder:
    """Stands in for IPython.display: display(bundle, raw=True) becomes a display_data output of the running cell."""

    def __init__(self):
        self.outputs = []

    def display(self, obj, raw=False):
        assert raw, "the helper displays raw bundles"
        self.outputs.append({"output_type": "display_data", "data": to_nb_data(obj), "metadata": {}})


def to_nb_data(bundle):
    # nbformat keeps JSON mime types as objects and text as a list of lines.
    data = {}
    for mime, value in bundle.items():
        data[mime] = value if not isinstance(value, str) else value.splitlines(keepends=True)
    return data


recorder = Recorder()
display_mod = types.ModuleType("IPython.display")
display_mod.display = recorder.display
ipython = types.ModuleType("IPython")
ipython.display = display_mod
sys.modules["IPython"] = ipython
sys.modules["IPython.display"] = display_mod


def lines(text):
    text = text.strip("\n")
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]]


class Notebook:
    def __init__(self):
        self.cells = []
        self.namespace = {}
        self.count = 0

    def markdown(self, text):
        self.cells.append({"cell_type": "markdown", "id": f"cell-{len(self.cells)}", "metadata": {}, "source": lines(text)})

    def code(self, source):
        recorder.outputs = []
        exec(compile(source, f"<cell {len(self.cells)}>", "exec"), self.namespace)  # our own cell sources, as a kernel runs them
        self.count += 1
        self.cells.append({
            "cell_type": "code", "id": f"cell-{len(self.cells)}", "execution_count": self.count, "metadata": {},
            "outputs": copy.deepcopy(recorder.outputs), "source": lines(source),
        })

    def write(self, path):
        nb = {
            "cells": self.cells,
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)
            f.write("\n")


SETUP = """
import numpy as np
import attention_inspector as ai

def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

tokens = ["The", " river", " bank", " was", " muddy", " after", " the", " rain"]
n = len(tokens)
causal = np.triu(np.full((n, n), -np.inf), k=1)
"""

ONE_HEAD = """
# One head: each token mostly attends to itself and the one before; " bank" leans on " river".
scores = 2.0 * np.eye(n) + 1.0 * np.eye(n, k=-1)
scores[2, 1] = 3.0
attn = softmax(scores + causal)
ai.show(attn, tokens, title="one head")
"""

GRID = """
# A [layers, heads, n, n] stack, as torch.stack(outputs.attentions)[:, 0] gives: 2 layers × 4 heads.
rng = np.random.default_rng(8)
patterns = [np.eye(n), np.eye(n, k=-1), np.zeros((n, n)), rng.standard_normal((n, n))]
patterns[2][:, 0] = 1.0
layers = np.stack([
    np.stack([softmax(3.0 * (p + 0.3 * l * rng.standard_normal((n, n))) + causal) for p in patterns])
    for l in range(2)
])
ai.show(layers.astype(np.float32), tokens, title="2 layers × 4 heads")
"""

COLOURS = """
# Small Q, K, V: the renderer computes softmax(QKᵀ/√d)·V itself. Click the row: warm vs cool shares.
q = np.array([[133, 23, 220]]) / 255
k = np.array([[255, 0, 0], [255, 128, 0], [255, 255, 0], [200, 60, 60],
              [0, 0, 255], [0, 128, 255], [0, 200, 120], [60, 60, 200]]) / 255
v = np.array([[1, 0]] * 4 + [[0, 1]] * 4)
ai.show(q=q, k=k, v=v, query_tokens=["purple"], key_tokens=["red", "orange", "yellow", "brick", "blue", "sky", "teal", "indigo"],
        value_labels=["warm", "cool"], title="colours")
"""

sample = Notebook()
sample.markdown("""
# Attention, inline

These outputs were made by the Python helper (`pip install ./python`, then `ai.show(attn, tokens)`) and saved with
the notebook. With the Attention Inspector extension they draw as heatmaps, without a kernel: hover a cell for its
weight, click a row to pin it, click a grid cell to open that layer and head.
""")
sample.code(SETUP)
sample.code(ONE_HEAD)
sample.code(GRID)
sample.code(COLOURS)
sample.write(os.path.join(HERE, "attention.ipynb"))

broken = Notebook()
broken.markdown("A malformed payload between two good outputs: its message shows, the others still draw.")
broken.code(SETUP)
broken.code(ONE_HEAD)
broken.code("""
# A payload damaged in transit: "!" is not base64.
b = ai.bundle(attn, tokens, title="damaged")
b[ai.MIME]["weights"]["data"] = "!" + b[ai.MIME]["weights"]["data"][1:]
from IPython.display import display
display(b, raw=True)
""")
broken.code("""
# Tokens are text, never markup: "<b>rain</b>" shows with its angle brackets.
ai.show(softmax(scores.T + causal), tokens[:-1] + ["<b>rain</b>"], title="still working")
""")
broken.write(os.path.join(ROOT, "test", "fixtures", "notebook", "malformed.ipynb"))
print("wrote samples/attention.ipynb and test/fixtures/notebook/malformed.ipynb")
