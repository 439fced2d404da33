/*
 * One variant of the attention kernel, included by attention.c once per instruction set with these macros set:
 *   V      lanes per vector (16 for AVX-512, 8 for AVX2, 4 portable)
 *   MR     query rows per Q·Kᵀ register tile (its 2 × MR accumulators must fit the register file)
 *   NV     vectors of value columns per P·V register tile (4 rows × NV accumulators)
 *   FN(x)  the variant's name for function x
 * GCC/Clang vector extensions compile the same source to zmm, ymm or xmm (NEON on arm64) code, with a·b + c
 * contracted to fused multiply-adds where the target has them (-ffp-contract=fast is GCC's C default).
 * No -ffast-math anywhere: the 2^x below relies on exact float rounding.
 */

typedef float FN(vf) __attribute__((vector_size(V * 4)));
typedef float FN(vfu) __attribute__((vector_size(V * 4), aligned(4)));
typedef int32_t FN(vi) __attribute__((vector_size(V * 4)));
typedef uint8_t FN(vb) __attribute__((vector_size(V), aligned(1)));
#define vf FN(vf)
#define vfu FN(vfu)
#define vi FN(vi)
#define vb FN(vb)
#define P (2 * V) /* keys per packed K panel */

/* x − 0 is x for every float (x + 0 is not, for −0), so this folds to one broadcast. */
static inline AI vf FN(splat)(float x) { return x - (vf){0}; }
static inline AI vf FN(loadu)(const float *p) { return *(const vfu *)p; }
static inline AI void FN(storeu)(float *p, vf x) { *(vfu *)p = x; }
static inline AI vf FN(select)(vi m, vf a, vf b) { return (vf)(((vi)a & m) | ((vi)b & ~m)); }
static inline AI vi FN(iota)(void) {
  vi r;
  for (int l = 0; l < V; l++) r[l] = l;
  return r;
}

/*
 * 2^x for x <= 0 (and NaN). x = n + r, n = round(x), r in [-0.5, 0.5]: 2^r by a degree-5 polynomial (relative
 * error 1.8e-7 in float32, the WASM kernel's), 2^n through the exponent bits. x is raised to at least -127 first
 * (a NaN is kept: the comparison is false), so everything below ~-126.5, masked -inf included, comes out 0.
 */
static inline AI vf FN(exp2v)(vf x) {
  const vf lo = FN(splat)(-127.0f);
  x = FN(select)(x < lo, lo, x);
  const vf magic = FN(splat)(12583039.0f); /* 1.5·2^23 + 127: the sum's low bits hold n + 127 */
  const vf t = x + magic;
  const vf r = x - (t - magic);
  vf p = FN(splat)(0.0013218672247603536f);
  p = p * r + 0.009671698324382305f;
  p = p * r + 0.05550893023610115f;
  p = p * r + 0.24022237956523895f;
  p = p * r + 0.6931468844413757f;
  p = p * r + 1.0f;
  const vi e = ((vi)t - 0x4B400000) << 23;
  return p * (vf)e;
}

/* C[MR rows][P keys] = A rows · K panel: A rows `lda` apart, the panel packed [dk][P]. */
static inline AI void FN(qk_tile)(int op, const float *a, int lda, const float *b, int dk, float *c, int ldc) {
  (void)op;
  vf acc0[MR], acc1[MR];
  for (int r = 0; r < MR; r++) acc0[r] = acc1[r] = FN(splat)(0.0f);
  for (int t = 0; t < dk; t++) {
    const vf b0 = *(const vf *)(b + t * P);
    const vf b1 = *(const vf *)(b + t * P + V);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      const vf x = FN(splat)(a[r * lda + t]);
      acc0[r] += x * b0;
      acc1[r] += x * b1;
    }
  }
  for (int r = 0; r < MR; r++) {
    FN(storeu)(c + r * ldc, acc0[r]);
    FN(storeu)(c + r * ldc + V, acc1[r]);
  }
}

/*
 * The same for l1 / l2 in double precision, 2 rows at a time: their scores are sums of |a − k| or (a − k)²
 * that grow with d (≈ −90 at d = 65), where float32 sums would already be off by 1e-5 and the weights with
 * them. Differences of two floats are exact in double, so this matches the float64 reference closely.
 */
typedef double FN(vd) __attribute__((vector_size(V * 4)));
typedef float FN(vh) __attribute__((vector_size(V * 2)));
typedef long long FN(vl) __attribute__((vector_size(V * 4)));
static inline AI void FN(dist_tile)(int op, const float *a, int lda, const float *b, int dk, float *c, int ldc) {
  enum { H = V / 2, Q4 = 4 }; /* H doubles per vector; a panel row of P = 2V floats is 4 of them */
  FN(vd) acc[2][Q4];
  for (int r = 0; r < 2; r++)
    for (int u = 0; u < Q4; u++) acc[r][u] = (FN(vd)){0};
  const FN(vd) zero = (FN(vd)){0};
  for (int t = 0; t < dk; t++) {
    FN(vd) bv[Q4];
    for (int u = 0; u < Q4; u++) bv[u] = __builtin_convertvector(*(const FN(vh) *)(b + t * P + u * H), FN(vd));
    for (int r = 0; r < 2; r++) {
      const FN(vd) x = (double)a[r * lda + t] - zero;
      for (int u = 0; u < Q4; u++) {
        const FN(vd) d = x - bv[u];
        if (op == OP_L1) acc[r][u] += (FN(vd))((FN(vl))d & 0x7fffffffffffffffLL);
        else acc[r][u] += d * d;
      }
    }
  }
  for (int r = 0; r < 2; r++)
    for (int u = 0; u < Q4; u++)
      for (int l = 0; l < H; l++) c[r * ldc + u * H + l] = (float)-acc[r][u][l];
}

/* S[rows][nkp] = sim(Q block, keys [0, kend)) for every packed panel that holds a key below kend. */
static void FN(scores)(int op, const float *qb, int rows, int dk, const float *kt, int kend, float *s, int nkp) {
  const int panels = (kend + P - 1) / P;
  for (int p = 0; p < panels; p++) {
    const float *b = kt + (size_t)p * dk * P;
    float *c = s + p * P;
    if (op == OP_DOT) {
      for (int r = 0; r < rows; r += MR) FN(qk_tile)(OP_DOT, qb + (size_t)r * dk, dk, b, dk, c + (size_t)r * nkp, nkp);
    } else if (op == OP_L1) {
      for (int r = 0; r < rows; r += 2) FN(dist_tile)(OP_L1, qb + (size_t)r * dk, dk, b, dk, c + (size_t)r * nkp, nkp);
    } else {
      for (int r = 0; r < rows; r += 2) FN(dist_tile)(OP_L2, qb + (size_t)r * dk, dk, b, dk, c + (size_t)r * nkp, nkp);
    }
  }
}

/* O[rows][dvp] = E[rows][0, kend) · Vp[0, kend)[dvp]: 4-row × NV-vector tiles, keys in cache-sized slices. */
static void FN(pv)(const float *e, int rows, int nkp, const float *vp, int dvp, int kend, float *o) {
  enum { KB = 256 };
  for (size_t i = 0; i < (size_t)rows * dvp; i++) o[i] = 0.0f;
  for (int k0 = 0; k0 < kend; k0 += KB) {
    const int k1 = k0 + KB < kend ? k0 + KB : kend;
    for (int c = 0; c < dvp; c += NV * V) {
      for (int r = 0; r < rows; r += 4) {
        vf acc[4][NV];
        for (int i = 0; i < 4; i++)
          for (int u = 0; u < NV; u++) acc[i][u] = FN(loadu)(o + (size_t)(r + i) * dvp + c + u * V);
        const float *e0 = e + (size_t)r * nkp;
        for (int j = k0; j < k1; j++) {
          const float *vr = vp + (size_t)j * dvp + c;
          vf b[NV];
          for (int u = 0; u < NV; u++) b[u] = *(const vf *)(vr + u * V);
#pragma GCC unroll 4
          for (int i = 0; i < 4; i++) {
            const vf x = FN(splat)(e0[(size_t)i * nkp + j]);
            for (int u = 0; u < NV; u++) acc[i][u] += x * b[u];
          }
        }
        for (int i = 0; i < 4; i++)
          for (int u = 0; u < NV; u++) FN(storeu)(o + (size_t)(r + i) * dvp + c + u * V, acc[i][u]);
      }
    }
  }
}

/*
 * Prepare one row of S for the softmax: the score views (when wanted), then the explicit mask folded in as
 * S·c or −inf (so the softmax then runs with factor 1). Returns the factor the softmax multiplies S by.
 */
static float FN(views_and_mask)(const Job *job, float *s, int lim, const uint8_t *mrow, float *raw, float *scl, float c) {
  const int nk = job->nk;
  const vf ninf = FN(splat)(-INFINITY);
  const vi lanes = FN(iota)();
  if (raw)
    for (int j = 0; j < nk; j++) raw[j] = s[j];
  if (scl) {
    const vf sf = FN(splat)(job->scale);
    int j = 0;
    for (; j + V <= nk; j += V) {
      const vf x = FN(loadu)(s + j);
      vi vis = (lanes + j) < lim;
      if (mrow) vis &= __builtin_convertvector(*(const vb *)(mrow + j), vi) != 0;
      FN(storeu)(scl + j, FN(select)(vis, x * sf, ninf));
    }
    for (; j < nk; j++) scl[j] = j < lim && (!mrow || mrow[j]) ? s[j] * job->scale : -INFINITY;
  }
  if (!mrow) return c;
  const vf cf = FN(splat)(c);
  int j = 0;
  for (; j + V <= lim; j += V) {
    const vi vis = __builtin_convertvector(*(const vb *)(mrow + j), vi) != 0;
    FN(storeu)(s + j, FN(select)(vis, FN(loadu)(s + j) * cf, ninf));
  }
  for (; j < lim; j++) s[j] = mrow[j] ? s[j] * c : -INFINITY;
  return 1.0f;
}

/*
 * Safe softmax of one row in place over keys [0, lim) (in log2 units: x = S·c, c = scale·log2 e), leaving
 * exp2(x − max) in S and zeros up to `zero_to`; returns 1/Σ, or 0 for a row with no visible key.
 */
static float FN(softmax_row)(float *s, int lim, float c, int zero_to, float *max_out, double *ex_out) {
  const vf cf = FN(splat)(c);
  const vf ninf = FN(splat)(-INFINITY);
  const vi lanes = FN(iota)();
  const int lv = (lim + V - 1) / V * V; /* full vectors; lanes past lim are treated as −inf */
  /* Four running maxima: one would wait on the compare-and-select latency every vector. */
  vf m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
  vi nan = (vi){0}; /* any NaN score makes the whole row NaN, as in NumPy (tracked apart from the max) */
  const int l4 = lim / (4 * V) * (4 * V);
  int j = 0;
  for (; j < l4; j += 4 * V) {
    const vf x0 = FN(loadu)(s + j) * cf, x1 = FN(loadu)(s + j + V) * cf;
    const vf x2 = FN(loadu)(s + j + 2 * V) * cf, x3 = FN(loadu)(s + j + 3 * V) * cf;
    nan |= (x0 != x0) | (x1 != x1) | (x2 != x2) | (x3 != x3);
    m0 = FN(select)(x0 > m0, x0, m0);
    m1 = FN(select)(x1 > m1, x1, m1);
    m2 = FN(select)(x2 > m2, x2, m2);
    m3 = FN(select)(x3 > m3, x3, m3);
  }
  for (; j < lv; j += V) {
    vf x = FN(loadu)(s + j) * cf;
    if (j + V > lim) x = FN(select)((lanes + j) < lim, x, ninf);
    nan |= x != x;
    m0 = FN(select)(x > m0, x, m0);
  }
  float m = -INFINITY;
  int any_nan = 0;
  for (int l = 0; l < V; l++) {
    m = m0[l] > m ? m0[l] : m;
    m = m1[l] > m ? m1[l] : m;
    m = m2[l] > m ? m2[l] : m;
    m = m3[l] > m ? m3[l] : m;
    any_nan |= nan[l];
  }
  *max_out = m;
  if (any_nan) {
    *max_out = NAN;
    return NAN;
  }
  if (lim == 0 || m == -INFINITY) {
    for (int j = 0; j < zero_to; j++) s[j] = 0.0f;
    return 0.0f;
  }
  const vf mm = FN(splat)(-m);
  vf sv = FN(splat)(0.0f);
  if (ex_out) {
    /* Also Σ e·x (x = the exponent, ≤ 0) for the row's entropy: float lanes flushed to double every 64 vectors,
     * so a 32k-key row keeps ~1e-7 relative precision. Masked lanes (e = 0, x = −inf) add nothing. */
    const vf zero = FN(splat)(0.0f);
    vf xa = zero;
    double ex = 0.0;
    for (int j = 0, v = 1; j < lv; j += V, v++) {
      vf x = FN(loadu)(s + j) * cf + mm;
      if (j + V > lim) x = FN(select)((lanes + j) < lim, x, ninf);
      const vf e = FN(exp2v)(x);
      FN(storeu)(s + j, e);
      sv += e;
      xa += FN(select)(e > zero, e * x, zero);
      if ((v & 63) == 0) {
        for (int l = 0; l < V; l++) ex += xa[l];
        xa = zero;
      }
    }
    for (int l = 0; l < V; l++) ex += xa[l];
    *ex_out = ex;
  } else {
    for (int j = 0; j < lv; j += V) {
      vf x = FN(loadu)(s + j) * cf + mm;
      if (j + V > lim) x = FN(select)((lanes + j) < lim, x, ninf);
      const vf e = FN(exp2v)(x);
      FN(storeu)(s + j, e);
      sv += e;
    }
  }
  for (int j = lv; j < zero_to; j++) s[j] = 0.0f;
  float sum = 0.0f;
  for (int l = 0; l < V; l++) sum += sv[l];
  return 1.0f / sum;
}

/* The largest of e[a, b) (every value ≥ 0; 0 for an empty range). */
static inline float FN(range_max)(const float *e, int a, int b) {
  int j = a;
  float m = 0.0f;
  if (b - a >= V) {
    vf mv = FN(splat)(0.0f);
    for (; j + V <= b; j += V) {
      const vf x = FN(loadu)(e + j);
      mv = FN(select)(x > mv, x, mv);
    }
    for (int l = 0; l < V; l++) m = mv[l] > m ? mv[l] : m;
  }
  for (; j < b; j++) m = e[j] > m ? e[j] : m;
  return m;
}

/*
 * The streamed sweep's per-row results (attn_sweep) from a row whose softmax left e = 2^(x − max) in `e` over
 * keys [0, lim) and returned inv = 1/Σe: the row's max (natural units) and sum, its entropy in nats, and its
 * weights max-pooled into the overview. `ex` is Σ e·x (x the exponent in log2 units, ≤ 0): with p = e·inv,
 * −Σ p ln p = ln Σe − ln 2 · inv · ex.
 */
static void FN(sweep_row)(const Job *job, const float *e, int lim, float inv, float m2, double ex, int g) {
  const AttnSweep *sw = job->sweep;
  const int row = sw->row0 + g;
  const int local = g;
  if (inv != inv) { /* a NaN score: the row is NaN, as in the in-memory path (its weights never win a pooled cell) */
    sw->row_max[local] = NAN;
    sw->row_sum[local] = NAN;
    if (sw->row_ent) sw->row_ent[local] = NAN;
    return;
  }
  const double ln2 = 0.6931471805599453;
  if (inv == 0.0f) { /* no visible key: weights 0 */
    sw->row_max[local] = -INFINITY;
    sw->row_sum[local] = 0.0;
    if (sw->row_ent) sw->row_ent[local] = 0.0;
  } else {
    const double sum = 1.0 / (double)inv;
    sw->row_max[local] = (double)m2 * ln2;
    sw->row_sum[local] = sum;
    if (sw->row_ent) sw->row_ent[local] = log(sum) - ln2 * (double)inv * ex;
  }
  if (!sw->pooled) return;
  const int bc = sw->pool_bc, nk = job->nk;
  float *prow = sw->pooled + (size_t)(row / sw->pool_br - sw->row0 / sw->pool_br) * sw->pool_cols;
  for (int oc = 0; oc < sw->pool_cols; oc++) {
    const int c0 = oc * bc;
    const int c1 = c0 + bc < nk ? c0 + bc : nk;
    /* Keys from lim on have weight 0 (max(e)·inv is the largest weight: multiplying by inv > 0 keeps the order). */
    const float w = c0 < lim ? FN(range_max)(e, c0, c1 < lim ? c1 : lim) * inv : 0.0f;
    if (w > prow[oc]) prow[oc] = w;
  }
}

/*
 * w[0, nk) = e · inv below lim, 0 from lim on. `stream`: non-temporal stores for weights far larger than the
 * caches (no read-for-ownership of lines about to be overwritten: half the memory traffic).
 */
static void FN(write_weights)(const float *e, int lim, int nk, float inv, float *w, int stream) {
  const vf iv = FN(splat)(inv);
  int j = 0;
#ifdef NT_STORE
  if (stream) {
    const vf zero = FN(splat)(0.0f);
    const vi lanes = FN(iota)();
    for (; j < nk && ((uintptr_t)(w + j) & (V * 4 - 1)); j++) w[j] = j < lim ? e[j] * inv : 0.0f;
    for (; j + V <= nk; j += V) {
      /* e past lim is not the row's (stale scratch): lanes from lim on are written as 0. */
      const vf x = j + V <= lim ? FN(loadu)(e + j) * iv
                 : j >= lim     ? zero
                                : FN(select)((lanes + j) < lim, FN(loadu)(e + j) * iv, zero);
      NT_STORE(w + j, x);
    }
    for (; j < nk; j++) w[j] = j < lim ? e[j] * inv : 0.0f;
    return;
  }
#else
  (void)stream;
#endif
  for (; j + V <= lim; j += V) FN(storeu)(w + j, FN(loadu)(e + j) * iv);
  for (; j < lim; j++) w[j] = e[j] * inv;
  for (; j < nk; j++) w[j] = 0.0f;
}

/* Rows [r0, r0 + n) of head h: scores, views, softmax, weights (to `wdst` rows nk apart) and outputs. */
static void FN(block)(const Job *job, Scratch *sc, int h, int r0, int n, float *wdst) {
  const int nk = job->nk, dk = job->dk, dv = job->dv, nkp = job->nkp, dvp = job->dvp;
  const int rows = (n + 7) & ~7; /* a multiple of MR (≤ 8) and of the P·V tile's 4 rows */
  const float *q = job->q + ((size_t)h * job->nq + r0) * dk;
  for (size_t i = 0; i < (size_t)n * dk; i++) sc->q[i] = q[i];
  for (size_t i = (size_t)n * dk; i < (size_t)rows * dk; i++) sc->q[i] = 0.0f;
  /* Keys some row of the block can see: a causal block stops early. */
  int kend = 0;
  for (int i = 0; i < n; i++) {
    const int lim = row_limit(job, r0 + i);
    sc->lim[i] = lim;
    if (lim > kend) kend = lim;
  }
  const int skend = job->raw ? nk : kend; /* the score views show scores past the causal limit too */
  FN(scores)(job->op, sc->q, rows, dk, job->kt + (size_t)h * job->kt_stride, skend, sc->s, nkp);
  const float c = job->scale * 1.4426950408889634f;
  for (int i = 0; i < n; i++) {
    const int g = r0 + i;
    float *s = sc->s + (size_t)i * nkp;
    const uint8_t *mrow = job->mask_kind == MASK_MATRIX
      ? job->mask + (job->mask_per_head ? (size_t)h * job->nq * nk : 0) + (size_t)g * nk : NULL;
    const size_t at = ((size_t)h * job->nq + g) * nk;
    const float cf = FN(views_and_mask)(job, s, sc->lim[i], mrow, job->raw ? job->raw + at : NULL,
                                        job->raw ? job->scaled + at : NULL, c);
    float m2;
    double ex = 0.0;
    sc->inv[i] = FN(softmax_row)(s, sc->lim[i], cf, kend, &m2, job->sweep && job->sweep->row_ent ? &ex : NULL);
    if (wdst) FN(write_weights)(s, sc->inv[i] != sc->inv[i] ? nk : sc->lim[i], nk, sc->inv[i], wdst + (size_t)i * nk, job->stream && wdst == job->weights + ((size_t)h * job->nq + r0) * nk);
    if (job->sweep) FN(sweep_row)(job, s, sc->lim[i], sc->inv[i], m2, ex, r0 + i);
  }
  if (!job->output) return; /* a sweep without V: the row results were all that was wanted */
  for (int i = n; i < rows; i++)
    for (int j = 0; j < kend; j++) sc->s[(size_t)i * nkp + j] = 0.0f;
  FN(pv)(sc->s, rows, nkp, job->vp + (size_t)h * job->vp_stride, dvp, kend, sc->o);
  float *out = job->output + ((size_t)h * job->nq + r0) * dv;
  for (int i = 0; i < n; i++)
    for (int t = 0; t < dv; t++) out[(size_t)i * dv + t] = sc->o[(size_t)i * dvp + t] * sc->inv[i];
}

/* The score views only (raw and scaled scores of rows [r0, r0 + n) of head h, every key): no softmax. */
static void FN(views)(const Job *job, Scratch *sc, int h, int r0, int n) {
  const int dk = job->dk, nkp = job->nkp, nk = job->nk;
  const int rows = (n + 7) & ~7;
  const float *q = job->q + ((size_t)h * job->nq + r0) * dk;
  for (size_t i = 0; i < (size_t)n * dk; i++) sc->q[i] = q[i];
  for (size_t i = (size_t)n * dk; i < (size_t)rows * dk; i++) sc->q[i] = 0.0f;
  FN(scores)(job->op, sc->q, rows, dk, job->kt + (size_t)h * job->kt_stride, nk, sc->s, nkp);
  for (int i = 0; i < n; i++) {
    const int g = r0 + i;
    const uint8_t *mrow = job->mask_kind == MASK_MATRIX
      ? job->mask + (job->mask_per_head ? (size_t)h * job->nq * nk : 0) + (size_t)g * nk : NULL;
    const size_t at = ((size_t)h * job->nq + g) * nk;
    /* With the mask folded in after the views are written; the row's S is not needed past this. */
    FN(views_and_mask)(job, sc->s + (size_t)i * nkp, row_limit(job, g), NULL, job->raw ? job->raw + at : NULL,
                       job->scaled ? job->scaled + at : NULL, 1.0f);
    if (mrow && job->scaled) {
      float *scl = job->scaled + at;
      for (int j = 0; j < nk; j++)
        if (!mrow[j]) scl[j] = -INFINITY;
    }
  }
}

/* Row statistics only: max of the scaled, masked scores (natural units) and Σ exp(x − max), per row. */
static void FN(stats)(const Job *job, Scratch *sc, int h, int r0, int n, float *rmax, float *rsum) {
  const int dk = job->dk, nkp = job->nkp, nk = job->nk;
  const int rows = (n + 7) & ~7;
  const float *q = job->q + ((size_t)h * job->nq + r0) * dk;
  for (size_t i = 0; i < (size_t)n * dk; i++) sc->q[i] = q[i];
  for (size_t i = (size_t)n * dk; i < (size_t)rows * dk; i++) sc->q[i] = 0.0f;
  int kend = 0;
  for (int i = 0; i < n; i++) {
    sc->lim[i] = row_limit(job, r0 + i);
    if (sc->lim[i] > kend) kend = sc->lim[i];
  }
  FN(scores)(job->op, sc->q, rows, dk, job->kt + (size_t)h * job->kt_stride, kend, sc->s, nkp);
  const float c = job->scale * 1.4426950408889634f;
  for (int i = 0; i < n; i++) {
    float *s = sc->s + (size_t)i * nkp;
    const int g = r0 + i;
    const uint8_t *mrow = job->mask_kind == MASK_MATRIX
      ? job->mask + (job->mask_per_head ? (size_t)h * job->nq * nk : 0) + (size_t)g * nk : NULL;
    const float cf = FN(views_and_mask)(job, s, sc->lim[i], mrow, NULL, NULL, c);
    float m2;
    const float inv = FN(softmax_row)(s, sc->lim[i], cf, 0, &m2, NULL);
    rmax[i] = inv == 0.0f ? -INFINITY : m2 * 0.6931471805599453f; /* log2 units back to natural */
    rsum[i] = inv == 0.0f ? 0.0f : 1.0f / inv;
  }
}

#undef vf
#undef vfu
#undef vi
#undef vb
#undef P
