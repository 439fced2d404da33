import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  decodeBase64, decodePayload, MAX_COMPUTED, MAX_FULL_SIDE, MAX_VALUES, NOTEBOOK_MIME, PayloadError, type NotebookPayload,
} from '../../src/shared/notebookPayload';
import { notebookView } from '../../src/shared/notebookModel';
import { cellDetails, rowDetails } from '../../src/shared/inspect';

// Written by test/fixtures/notebook/make_fixtures.py with the Python helper (python/attention_inspector) and NumPy.
const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'notebook');

interface Expected {
  layers: number; heads: number; rows: number; cols: number;
  weights: (number | null)[]; scores?: number[]; scaled?: (number | null)[]; outputs?: number[]; valueDim?: number;
  dtype?: string; shape?: number[]; axes?: string[]; computed?: boolean;
  queryLabels?: string[]; keyLabels?: string[]; valueLabels?: string[]; warnings: string[];
}
interface Fixtures {
  good: Record<string, { payload: unknown; expected: Expected }>;
  bad: Record<string, { payload: unknown; message: string }>;
}
const fixtures = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'payloads.json'), 'utf8')) as Fixtures;

/** JSON has no NaN or −∞: the fixture writes null for a masked or missing cell. */
function same(actual: ArrayLike<number>, expected: readonly (number | null)[], tol: number, what: string): void {
  assert.strictEqual(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e === null) assert.ok(!Number.isFinite(a), `${what}[${i}] = ${a}, expected a non-finite value`);
    else if (tol === 0) assert.strictEqual(a, e, `${what}[${i}]`);
    else assert.ok(Math.abs(a - e) <= tol, `${what}[${i}] = ${a}, expected ${e} ± ${tol}`);
  }
}

function encode(values: ArrayLike<number>, shape: number[]): { dtype: 'float32'; shape: number[]; data: string } {
  return { dtype: 'float32', shape, data: Buffer.from(Float32Array.from(values).buffer).toString('base64') };
}

describe('notebook payload: decoding what the Python helper writes', () => {
  for (const [name, { payload, expected: e }] of Object.entries(fixtures.good)) {
    it(`decodes "${name}" to the arrays NumPy holds`, () => {
      const p = decodePayload(payload);
      assert.deepStrictEqual([p.layers, p.heads, p.rows, p.cols], [e.layers, e.heads, e.rows, e.cols]);
      // Decoded values are exact; weights computed from Q/K/V match NumPy's float64 softmax to float32 rounding.
      const tol = p.computed ? 2e-7 : 0;
      same(p.weights, e.weights, tol, 'weights');
      if (e.scores) same(p.scores!, e.scores, 1e-6, 'scores');
      if (e.scaled) same(p.scaled!, e.scaled, 1e-6, 'scaled');
      if (e.outputs) {
        same(p.outputs!, e.outputs, 1e-6, 'outputs');
        assert.strictEqual(p.valueDim, e.valueDim);
      }
      if (e.dtype) assert.strictEqual(p.dtype, e.dtype);
      if (e.shape) assert.deepStrictEqual(p.shape, e.shape);
      if (e.axes) assert.deepStrictEqual(p.axes, e.axes);
      assert.strictEqual(p.computed, e.computed ?? false);
      assert.deepStrictEqual(p.queryLabels, e.queryLabels);
      assert.deepStrictEqual(p.keyLabels, e.keyLabels);
      assert.deepStrictEqual(p.valueLabels, e.valueLabels);
      assert.deepStrictEqual(p.warnings, e.warnings);
    });
  }

  it('keeps HTML in tokens as the very same text (the renderer inserts it with textContent)', () => {
    const p = decodePayload(fixtures.good.square.payload);
    assert.strictEqual(p.queryLabels?.[3], '<img src=x onerror=alert(1)>');
    assert.strictEqual(p.keyLabels?.[4], '\n');
  });

  it('names the mime type the helper writes', () => {
    const py = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'python', 'attention_inspector', '__init__.py'), 'utf8');
    assert.ok(py.includes(`MIME = "${NOTEBOOK_MIME}"`));
    assert.ok(py.includes(`MAX_VALUES = 1 << 24`) && MAX_VALUES === 1 << 24);
  });
});

describe('notebook payload: bad payloads give one clear message', () => {
  for (const [name, { payload, message }] of Object.entries(fixtures.bad)) {
    it(`${name}: "${message}"`, () => {
      assert.throws(() => decodePayload(payload), (err: unknown) => {
        assert.ok(err instanceof PayloadError, `a PayloadError, not ${String(err)}`);
        assert.strictEqual(err.message, `Attention Inspector cannot show this output: ${message}`);
        return true;
      });
    });
  }

  it('refuses a too-big shape before decoding or allocating anything', () => {
    // The data is not even base64: the shape is checked first.
    assert.throws(() => decodePayload({ weights: { dtype: 'float32', shape: [1 << 13, 1 << 13], data: '%%%%' } }),
      /more than 16777216 values \(the size limit\)/);
  });

  it('refuses computing more than MAX_COMPUTED weights from q and k', () => {
    const n = Math.ceil(Math.sqrt(MAX_COMPUTED)) + 1;
    const q = { dtype: 'float32', shape: [n, 1], data: Buffer.alloc(n * 4).toString('base64') };
    assert.throws(() => decodePayload({ q, k: q }), /weights from q and k is more than 4194304/);
  });

  it('rejects a causal flag that is not a boolean and q/k/v with different heads', () => {
    const q = [[[1, 0]], [[0, 1]]];
    assert.throws(() => decodePayload({ q, k: q, causal: 'yes' }), /causal must be true or false/);
    assert.throws(() => decodePayload({ q, k: [[1, 0]] }), /q has 2 heads but k has 1/);
    assert.throws(() => decodePayload({ q, k: q, v: [[[1], [2]], [[3], [4]]] }), /k has 1 rows but v has 2/);
  });

  it('warns about unknown fields and misplaced options instead of failing', () => {
    const p = decodePayload({ weights: [[1]], colour: 'red', v: [[1]] });
    assert.deepStrictEqual(p.warnings, ['ignored unknown field "colour"', 'v is only used with q and k; ignored']);
  });
});

describe('notebook payload: base64 and float16', () => {
  it('decodes base64 exactly as Node does for every length and padding', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 97 + n * 13) & 0xff));
      assert.deepStrictEqual(Buffer.from(decodeBase64(bytes.toString('base64'), n, 'x')), bytes, `length ${n}`);
    }
  });

  it('rejects whitespace, URL-safe characters and padding in the middle', () => {
    assert.throws(() => decodeBase64('AAAA\nAAA', 6, 'd'), /d is not valid base64 \(character "\\n" at 4\)/);
    assert.throws(() => decodeBase64('AA-_', 3, 'd'), /character "-" at 2/);
    assert.throws(() => decodeBase64('AA==AAAA', 6, 'd'), /character "=" at 2/);
    assert.throws(() => decodeBase64('A===', 1, 'd'), /character "=" at 1/);
    assert.throws(() => decodeBase64('AAAA', 4, 'd'), /d holds 3 bytes but its dtype and shape need 4/);
  });

  it('widens float16 zero, subnormals, ±∞ and NaN as NumPy does', () => {
    const bits = [0x0000, 0x8000, 0x0001, 0x03ff, 0x3c00, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x3555];
    const buf = Buffer.alloc(bits.length * 2);
    bits.forEach((b, i) => buf.writeUInt16LE(b, i * 2));
    const p = decodePayload({ weights: { dtype: 'float16', shape: [1, bits.length], data: buf.toString('base64') } });
    const want = [0, -0, 2 ** -24, 1023 * 2 ** -24, 1, 65504, Infinity, -Infinity, NaN, 0.333251953125];
    assert.deepStrictEqual(Array.from(p.weights), want);
  });
});

describe('notebook payload: the heatmap model the renderer draws', () => {
  it('shows the selected layer and head with a grid of all heads and the head mean/max of that layer', () => {
    const p = decodePayload(fixtures.good.grid_f16.payload);
    const { model, poolingNote } = notebookView(p, { layer: 1, head: 2 });
    assert.strictEqual(poolingNote, undefined);
    assert.strictEqual(model.subtitle, 'L 1 · H 2');
    assert.deepStrictEqual(model.selection, { layer: 1, head: 2 });
    const w = model.kinds.weights!;
    assert.deepStrictEqual(Array.from(w.data), fixtures.good.grid_f16.expected.weights.slice(5 * 16, 6 * 16));
    assert.deepStrictEqual([model.grid?.layers, model.grid?.heads, model.grid?.cellSize], [2, 3, 4]);
    // The grid's cells are the heads themselves at 4×4 (no pooling needed).
    assert.deepStrictEqual(Array.from(model.grid!.cells), fixtures.good.grid_f16.expected.weights);
    const heads = [3, 4, 5].map((h) => p.weights.subarray(h * 16, (h + 1) * 16));
    const mean = model.kinds.headMean!.data;
    for (let i = 0; i < 16; i++) assert.ok(Math.abs(mean[i] - (heads[0][i] + heads[1][i] + heads[2][i]) / 3) < 1e-7);
    assert.deepStrictEqual(model.grid!.extras!.map((x) => [x.name, x.kind]), [['L 1 head mean', 'headMean'], ['L 1 head max', 'headMax']]);
    // The tooltip's numbers come from the same shared code the panel uses.
    const d = cellDetails(model, 'weights', 2, 3)!;
    assert.strictEqual(d.weight, w.data[2 * 4 + 3]);
    assert.deepStrictEqual([d.rowLabel, d.colLabel], ['c', 'd']);
  });

  it('clamps a selection outside the payload', () => {
    const p = decodePayload(fixtures.good.grid_f16.payload);
    assert.deepStrictEqual(notebookView(p, { layer: 9, head: -3 }).model.selection, { layer: 1, head: 0 });
  });

  it('computes the pinned row\'s weighted sum of V from Q/K/V payloads', () => {
    const f = fixtures.good.qkv_heads;
    const p = decodePayload(f.payload);
    const { model } = notebookView(p, { layer: 0, head: 1 });
    assert.ok(model.kinds.scores && model.kinds.scaled && model.kinds.output && model.values);
    const row = rowDetails(model, 'weights', 2)!;
    same(row.output!, f.expected.outputs!.slice((1 * 3 + 2) * 3, (1 * 3 + 3) * 3), 1e-6, 'output');
    assert.deepStrictEqual(model.valueLabels, ['x', 'y', 'z']);
    const d = cellDetails(model, 'weights', 2, 4)!;
    assert.strictEqual(d.contribution!.length, 3);
  });

  it('draws a map larger than MAX_FULL_SIDE max-pooled with a note, the peak kept', () => {
    const rows = MAX_FULL_SIDE + 76;
    const cols = MAX_FULL_SIDE + 6;
    const data = new Float32Array(rows * cols).fill(0.001);
    data[1077 * cols + 5] = 0.9;
    const tokens = Array.from({ length: rows }, (_, i) => `t${i}`);
    const p: NotebookPayload = decodePayload({ weights: encode(data, [rows, cols]), query_tokens: tokens });
    const { model, poolingNote } = notebookView(p);
    const w = model.kinds.weights!;
    assert.deepStrictEqual([w.rows, w.cols], [550, 515]);
    assert.strictEqual(poolingNote, '1100×1030 shown as 550×515, max of 2×2 blocks (maps with a side over 1024 are pooled in notebooks)');
    assert.strictEqual(w.data[538 * 515 + 2], Math.fround(0.9));
    assert.strictEqual(model.queryLabels, undefined);
    assert.ok(model.warnings.includes('tokens are not shown on a pooled map'));
  });

  it('shows signed payload values as data, not weights', () => {
    const { model } = notebookView(decodePayload({ weights: [[-1, 2], [3, -4]] }));
    assert.strictEqual(model.defaultKind, 'data');
    assert.deepStrictEqual(Array.from(model.kinds.data!.data), [-1, 2, 3, -4]);
  });
});

describe('notebook payload: the JSON schema says what the decoder enforces', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'media', 'notebook-payload.schema.json'), 'utf8'));
  it('lists the same dtypes, axes and limits', () => {
    assert.deepStrictEqual(schema.definitions.encoded.properties.dtype.enum, ['float32', 'float16']);
    assert.strictEqual(schema.definitions.encoded.properties.shape.maxItems, 8);
    assert.ok(String(schema.description).includes(String(MAX_VALUES)));
    assert.ok(String(schema.description).includes(String(MAX_FULL_SIDE)));
    assert.ok(String(schema.description).includes(String(MAX_COMPUTED)));
    assert.ok(String(schema.title).includes(NOTEBOOK_MIME));
  });
  it('declares every top-level field the decoder reads', () => {
    const fields = Object.keys(schema.properties).sort();
    assert.deepStrictEqual(fields, ['attentions', 'axes', 'causal', 'k', 'key_tokens', 'q', 'query_tokens', 'title', 'tokens', 'v', 'value_labels', 'version', 'weights']);
  });
});

describe('notebook payload: the committed notebooks (samples/make_notebook.py)', () => {
  const outputsOf = (file: string) => {
    const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { outputs?: { data: Record<string, unknown> }[] }[] };
    return nb.cells.flatMap((c) => c.outputs ?? []).map((o) => o.data);
  };

  it('samples/attention.ipynb: a 2-D map with tokens, a [2, 4, 8, 8] grid and a Q/K/V output, each with a text summary', () => {
    const outs = outputsOf(path.join(__dirname, '..', '..', '..', 'samples', 'attention.ipynb'));
    assert.strictEqual(outs.length, 3);
    for (const o of outs) assert.ok(Array.isArray(o['text/plain']));
    const [one, grid, colours] = outs.map((o) => decodePayload(o[NOTEBOOK_MIME]));
    assert.deepStrictEqual([one.layers, one.heads, one.rows, one.cols], [1, 1, 8, 8]);
    assert.strictEqual(one.keyLabels?.[2], ' bank');
    // Row " bank": scores 3 on " river" and 2 on itself, causal: softmax([0, 3, 2]).
    const e = [1, Math.exp(3), Math.exp(2)];
    const s = e[0] + e[1] + e[2];
    assert.ok(Math.abs(one.weights[2 * 8 + 1] - e[1] / s) < 1e-7);
    assert.strictEqual(one.weights[2 * 8 + 3], 0);
    assert.deepStrictEqual([grid.layers, grid.heads, grid.rows, grid.cols], [2, 4, 8, 8]);
    assert.ok(colours.computed && colours.valueDim === 2);
    const row = rowDetails(notebookView(colours).model, 'weights', 0)!;
    assert.ok(Math.abs(row.output![0] + row.output![1] - 1) < 1e-6, 'warm + cool shares sum to 1');
  });

  it('test/fixtures/notebook/malformed.ipynb: the damaged output gives its message, the others decode', () => {
    const outs = outputsOf(path.join(FIXTURES, 'malformed.ipynb'));
    assert.strictEqual(outs.length, 3);
    assert.strictEqual(decodePayload(outs[0][NOTEBOOK_MIME]).title, 'one head');
    assert.throws(() => decodePayload(outs[1][NOTEBOOK_MIME]), /weights\.data is not valid base64 \(character "!" at 0\)/);
    assert.strictEqual(decodePayload(outs[2][NOTEBOOK_MIME]).keyLabels?.[7], '<b>rain</b>');
  });
});

describe('notebook payload: mangled payloads never crash the decoder', () => {
  it('decodes or gives a PayloadError for 3000 deterministic mutations of the helper\'s payloads', () => {
    let seed = 18;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const junk: unknown[] = [null, true, -1, 0, 2.5, 1e300, '', 'x', '=', [], [[]], {}, { dtype: 'float32' }, [1, 'a'], [[1], [2, 3]]];
    const bases = Object.values(fixtures.good).map((g) => JSON.stringify(g.payload));
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      const p = JSON.parse(bases[rand(bases.length)]) as Record<string, unknown>;
      // Replace one field (or one field of the weights/q object) with junk, or cut the base64 text.
      const keys = Object.keys(p);
      const key = keys[rand(keys.length)];
      const target = p[key];
      if (target && typeof target === 'object' && !Array.isArray(target) && rand(2) === 0) {
        const inner = target as Record<string, unknown>;
        const ik = Object.keys(inner)[rand(Object.keys(inner).length)];
        inner[ik] = typeof inner[ik] === 'string' && rand(2) === 0
          ? (inner[ik] as string).slice(0, rand((inner[ik] as string).length + 1))
          : junk[rand(junk.length)];
      } else {
        p[key] = junk[rand(junk.length)];
      }
      try {
        decodePayload(p);
      } catch (err) {
        assert.ok(err instanceof PayloadError, `mutation ${i} of ${key} threw ${String(err)}`);
        errors++;
      }
    }
    assert.ok(errors > 1000, `most mutations are refused (${errors})`);
  });
});
