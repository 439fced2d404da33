// The attention kernel: one block of query rows at a time, fused: S = Q·Kᵀ, safe softmax, O = P·V.
// Compiled by AssemblyScript (scripts/build-wasm.js) to dist/attention.wasm with SIMD; no allocator:
// the host lays out every buffer in linear memory and passes byte offsets, so this file only does maths.
//
// Layouts (f32, rows padded to a multiple of 4, key count nk padded to nkp = multiple of 8,
// value width dv padded to dvp = multiple of 8, padding zero-filled by the host):
//   q    [rows][dk]           the block's queries, already multiplied by scale factor · log2(e)
//   kt   [nkp/8][dk][8]       K transposed in panels of 8 keys, so the inner loop streams linearly
//   vp   [dvp/8][nkp][8]      V in panels of 8 value columns
//   lim  [rows] i32           keys visible to each row (a causal prefix; nk when unmasked)
//   bias [rows][nkp] or 0     0 / -inf per key for explicit masks
//   s    [rows][nkp]          out: the normalised weights (zeros past lim)
//   o    [rows][dvp]          out: the outputs
//   raw  [rows][nkp] or 0     out: the scores before masking, in log2 units (when the caller wants them)

// a·b + c. Built twice (scripts/build-wasm.js): with relaxed SIMD this is one fused multiply-add (f32x4.relaxed_madd,
// vfmadd on x86 with FMA3, fmla on arm64), otherwise a multiply and an add. Either way ASC_FEATURE_RELAXED_SIMD is a
// compile-time constant, so the unused branch is not in the binary.
// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// 2^x for x <= 0 (scores arrive in log2 units: the host folds log2(e) into Q's scale, so exp(s - m) is
// 2^(x - m) here). x = n + r with n = round(x), r in [-0.5, 0.5]; 2^r by a degree-5 polynomial fitted on
// Chebyshev nodes (least squares, relative error 1.8e-7 evaluated in float32); 2^n through the exponent bits.
// x is first raised to at least -127 with pmax (one maxps; NaN stays NaN, since pmax returns its first
// operand unless that is less than the second): n = -127 puts zero exponent bits in 2^n, so everything below
// about -126.5 (true value < 1.2e-38), masked -inf entries included, comes out exactly 0. A row with a NaN
// score comes out NaN as in NumPy.
// @ts-ignore: decorator
@inline
function exp2v(x: v128): v128 {
  x = f32x4.pmax(x, f32x4.splat(-127.0));
  // n = round(x) by adding 1.5·2^23 + 127: the sum's low mantissa bits hold n + 127, the biased exponent of
  // 2^n (cheaper than nearest + trunc + add).
  const magic = f32x4.splat(12583039.0);
  const t = f32x4.add(x, magic);
  const r = f32x4.sub(x, f32x4.sub(t, magic));
  let p = f32x4.splat(0.0013218672247603536);
  p = madd(p, r, f32x4.splat(0.009671698324382305));
  p = madd(p, r, f32x4.splat(0.05550893023610115));
  p = madd(p, r, f32x4.splat(0.24022237956523895));
  p = madd(p, r, f32x4.splat(0.6931468844413757));
  p = madd(p, r, f32x4.splat(1.0));
  // bits(t) − bits(1.5·2^23) = n + 127; shifted into the exponent field it is 2^n as a float.
  return f32x4.mul(p, i32x4.shl(i32x4.sub(t, i32x4.splat(0x4B400000)), 23));
}

// C[4 rows][8 cols] = Σ_t A[r][t] · B[t][0..8], A rows `lda` floats apart, B a packed panel of 8 columns.
// @ts-ignore: decorator
@inline
function tile4x8(a: usize, lda: usize, b: usize, inner: i32, c: usize, ldc: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const a0 = a, a1 = a + (lda << 2), a2 = a + (lda << 3), a3 = a1 + (lda << 3);
  for (let t: usize = 0; t < <usize>inner; t++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    b += 32;
    const o = t << 2;
    let x = v128.load32_splat(a0 + o);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(a1 + o);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(a2 + o);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(a3 + o);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
  }
  const l = ldc << 2;
  v128.store(c, c00); v128.store(c, c01, 16); c += l;
  v128.store(c, c10); v128.store(c, c11, 16); c += l;
  v128.store(c, c20); v128.store(c, c21, 16); c += l;
  v128.store(c, c30); v128.store(c, c31, 16);
}

/**
 * Pack K [nk][dk] (row-major at src) transposed into panels of 8 keys, [nkp/8][dk][8], zero-padded to nkp keys.
 * The host copies K's rows into linear memory first; this replaces a gather loop in JavaScript.
 */
export function packPanels(src: usize, nk: i32, dk: i32, dst: usize): void {
  const nkp = (nk + 7) & ~7;
  for (let p = 0; p < nkp; p += 8) {
    const panel = dst + <usize>(p * dk * 4);
    for (let l = 0; l < 8; l++) {
      const j = p + l;
      if (j < nk) {
        const row = src + <usize>(j * dk * 4);
        for (let t = 0; t < dk; t++) store<f32>(panel + <usize>((t * 8 + l) * 4), load<f32>(row + <usize>(t * 4)));
      } else {
        for (let t = 0; t < dk; t++) store<f32>(panel + <usize>((t * 8 + l) * 4), 0);
      }
    }
  }
}

/**
 * Pack V [nk][dv] (row-major at src) into panels of 8 value columns, [dvp/8][nkp][8], zero-padded to nkp rows
 * and dvp columns.
 */
export function packColumns(src: usize, nk: i32, dv: i32, dst: usize): void {
  const nkp = (nk + 7) & ~7;
  const dvp = (dv + 7) & ~7;
  for (let c = 0; c < dvp; c += 8) {
    const panel = dst + <usize>(c * nkp * 4);
    for (let j = 0; j < nkp; j++) {
      const out = panel + <usize>(j * 32);
      if (j < nk && c + 8 <= dv) {
        const row = src + <usize>((j * dv + c) * 4);
        v128.store(out, v128.load(row));
        v128.store(out, v128.load(row, 16), 16);
      } else {
        for (let l = 0; l < 8; l++) {
          const col = c + l;
          store<f32>(out + <usize>(l * 4), j < nk && col < dv ? load<f32>(src + <usize>((j * dv + col) * 4)) : 0);
        }
      }
    }
  }
}

/**
 * The score views of a block, after attendBlock copied its scores (log2 units) to `raw`: raw becomes the raw
 * scores (× toRaw, in place) and `scl` the scaled scores (× toScaled), −∞ where the key is masked (past the row's
 * `lim`, or a −∞ in `bias`). Replaces two multiplications and a mask test per score in JavaScript.
 */
export function scoreViews(rows: i32, nkp: i32, raw: usize, lim: usize, bias: usize, scl: usize, toRaw: f32, toScaled: f32): void {
  const tr = f32x4.splat(toRaw);
  const ts = f32x4.splat(toScaled);
  const ninf = f32x4.splat(-Infinity);
  const lanes = i32x4(0, 1, 2, 3);
  for (let r = 0; r < rows; r++) {
    const n = i32x4.splat(load<i32>(lim + <usize>(r * 4)));
    const row = raw + <usize>(r * nkp * 4);
    const out = scl + <usize>(r * nkp * 4);
    const br = bias ? bias + <usize>(r * nkp * 4) : 0;
    for (let j = 0; j < nkp; j += 4) {
      const off = <usize>(j * 4);
      const x = v128.load(row + off);
      v128.store(row + off, f32x4.mul(x, tr));
      let visible = i32x4.lt_s(i32x4.add(i32x4.splat(j), lanes), n);
      if (br) visible = v128.and(visible, f32x4.ne(v128.load(br + off), ninf));
      v128.store(out + off, v128.bitselect(f32x4.mul(x, ts), ninf, visible));
    }
  }
}

/** Weights and outputs for `rows` query rows (a multiple of 4). */
export function attendBlock(
  rows: i32, dk: i32, nkp: i32, dvp: i32,
  q: usize, kt: usize, vp: usize, lim: usize, bias: usize, s: usize, o: usize, raw: usize,
): void {
  const panels = nkp >> 3;
  // S = Q·Kᵀ: panel-outer so each 8-key panel stays in L1 while every row group uses it.
  for (let p = 0; p < panels; p++) {
    const b = kt + <usize>(p * dk * 32);
    for (let r = 0; r < rows; r += 4) {
      tile4x8(q + <usize>(r * dk * 4), <usize>dk, b, dk, s + <usize>((r * nkp + (p << 3)) * 4), <usize>nkp);
    }
  }
  if (raw) memory.copy(raw, s, <usize>(rows * nkp * 4));
  // Safe softmax per row over the visible keys.
  let maxLim = 0;
  for (let r = 0; r < rows; r++) {
    const row = s + <usize>(r * nkp * 4);
    const n = load<i32>(lim + <usize>(r * 4));
    if (n > maxLim) maxLim = n;
    if (bias) {
      const br = bias + <usize>(r * nkp * 4);
      for (let j = 0; j < n; j += 4) {
        const off = <usize>(j * 4);
        v128.store(row + off, f32x4.add(v128.load(row + off), v128.load(br + off)));
      }
    }
    const n4 = n & ~3;
    let mv = f32x4.splat(-Infinity);
    // pmax is one maxps; a NaN it skips still turns the row NaN through its own exp below.
    for (let j = 0; j < n4; j += 4) mv = f32x4.pmax(mv, v128.load(row + <usize>(j * 4)));
    let m = f32.max(f32.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), f32.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (let j = n4; j < n; j++) m = f32.max(m, load<f32>(row + <usize>(j * 4)));
    if (n == 0 || m == -Infinity) {
      memory.fill(row, 0, <usize>(nkp * 4));
      continue;
    }
    const ms = f32x4.splat(m);
    let sv = f32x4.splat(0);
    for (let j = 0; j < n4; j += 4) {
      const off = row + <usize>(j * 4);
      const e = exp2v(f32x4.sub(v128.load(off), ms));
      v128.store(off, e);
      sv = f32x4.add(sv, e);
    }
    let sum: f32 = f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1) + f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3);
    for (let j = n4; j < n; j++) {
      const off = row + <usize>(j * 4);
      const e = f32x4.extract_lane(exp2v(f32x4.splat(load<f32>(off) - m)), 0);
      store<f32>(off, e);
      sum += e;
    }
    if (n < nkp) memory.fill(row + <usize>(n * 4), 0, <usize>((nkp - n) * 4));
    const inv = f32x4.splat(<f32>1.0 / sum);
    for (let j = 0; j < n; j += 4) {
      const off = row + <usize>(j * 4);
      v128.store(off, f32x4.mul(v128.load(off), inv));
    }
  }
  // O = P·V, only over keys some row of the block can see (a causal block skips the masked tail).
  const inner = (maxLim + 7) & ~7;
  const vpanels = dvp >> 3;
  for (let c = 0; c < vpanels; c++) {
    const b = vp + <usize>(c * nkp * 32);
    for (let r = 0; r < rows; r += 4) {
      tile4x8(s + <usize>(r * nkp * 4), <usize>nkp, b, inner, o + <usize>((r * dvp + (c << 3)) * 4), <usize>dvp);
    }
  }
}
