/*
 * Node-API binding of the native attention kernel (plain node_api.h: ABI-stable across Node, Electron and
 * code-server). Typed arrays in, typed arrays out; the JavaScript side (src/core/compute/native.ts) validates
 * shapes and sizes before calling, and this file checks each array is at least as long as the shapes say.
 *
 *   info() → { variant, supported: { avx512, avx2, portable }, threads }
 *   setVariant(name) → boolean            force "avx512" | "avx2" | "portable" | "auto" (tests, bench)
 *   run(params) → number                  0, -1 (aborted through params.control), or a write errno
 *   runAsync(params) → Promise<number>    the same on a libuv thread, so the event loop keeps turning
 *   scoreViews(params) → number            raw and/or scaled scores only (params.scores, params.scaled)
 *   rowStats(params, rowMax, rowSum) → number
 *   sweep(params, outs) → number          the streamed sweep's rows in one pass (see sweep below)
 *   releaseCache()                         free this thread's packed K/V kept by sweep (params.cacheKey)
 *   diffAsync(paramsA, paramsB, outs) → Promise<number>   A − B of two heads' weights, pooled (see diff_async)
 *   nonFinite(array) → number              how many values of a Float32Array are NaN or ±∞
 *   hugeOffset(buffer) → number            where a 2 MiB page starts in an ArrayBuffer, huge pages asked for from there
 *   prefault(buffer, offset, bytes) → Promise<number>   fault those bytes in on a libuv thread (attn_prefault)
 *   discard(buffer, offset, bytes)         hand those bytes' whole pages back to the system (attn_discard)
 *   machine(threads, mebibytes) → { peakGflops, lanes, writeGBps, copyGBps }   the physical limits (bench)
 */
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "machine.h"

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) return 0;                                             \
  } while (0)

static void throw_type(napi_env env, const char *what) { napi_throw_type_error(env, NULL, what); }

/* A TypeError naming the field ("attention kernel: nq is not a 32-bit integer"); returns 0 for the caller to return. */
static int field_error(napi_env env, const char *name, const char *problem) {
  char msg[160];
  snprintf(msg, sizeof msg, "attention kernel: %s %s", name, problem);
  throw_type(env, msg);
  return 0;
}

/* obj[name] into *v: 1 when it holds a value, 0 when it is undefined or null, -1 when reading it failed. */
static int get_field(napi_env env, napi_value obj, const char *name, napi_value *v) {
  napi_valuetype t;
  if (napi_get_named_property(env, obj, name, v) != napi_ok || napi_typeof(env, *v, &t) != napi_ok) return -1;
  return t != napi_undefined && t != napi_null;
}

static int get_int(napi_env env, napi_value obj, const char *name, int *out, int dflt) {
  napi_value v;
  const int has = get_field(env, obj, name, &v);
  int32_t x = dflt;
  if (has < 0 || (has && napi_get_value_int32(env, v, &x) != napi_ok)) return 0;
  *out = x;
  return 1;
}

static int get_double(napi_env env, napi_value obj, const char *name, double *out, double dflt) {
  napi_value v;
  const int has = get_field(env, obj, name, &v);
  double x = dflt;
  if (has < 0 || (has && napi_get_value_double(env, v, &x) != napi_ok)) return 0;
  *out = x;
  return 1;
}

/* A typed array of the given type with at least `min` elements, or NULL when absent and optional. */
static int get_array(napi_env env, napi_value obj, const char *name, napi_typedarray_type want, size_t min,
                     int optional, void **out) {
  napi_value v;
  bool is;
  *out = NULL;
  const int has = get_field(env, obj, name, &v);
  if (has <= 0) return has < 0 ? 0 : optional;
  CHECK(napi_is_typedarray(env, v, &is));
  if (!is) return 0;
  napi_typedarray_type type;
  size_t length;
  void *data;
  CHECK(napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL));
  if (type != want || length < min) return 0;
  *out = data ? data : (void *)"";
  return 1;
}

/* Read and check params; on failure a TypeError naming the field is pending and 0 is returned. */
static int read_params(napi_env env, napi_value obj, AttnParams *p, int need_output) {
  memset(p, 0, sizeof *p);
  double scale, fd_offset;
  int fd;
  const struct { const char *name; int *out; int dflt; } ints[] = {
    {"heads", &p->heads, 1}, {"nq", &p->nq, -1}, {"nk", &p->nk, -1}, {"dk", &p->dk, -1}, {"dv", &p->dv, -1},
    {"op", &p->op, OP_DOT}, {"maskKind", &p->mask_kind, MASK_NONE}, {"maskOffset", &p->mask_offset, 0},
    {"maskPerHead", &p->mask_per_head, 0}, {"fd", &fd, -1}, {"threads", &p->threads, 0}, {"kvHeads", &p->kv_heads, 0},
    {"cacheKey", &p->cache_key, 0},
  };
  const struct { const char *name; double *out; double dflt; } doubles[] = {{"scale", &scale, 1}, {"fdOffset", &fd_offset, 0}};
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
    if (!get_int(env, obj, ints[i].name, ints[i].out, ints[i].dflt)) return field_error(env, ints[i].name, "is not a 32-bit integer");
  for (size_t i = 0; i < sizeof doubles / sizeof *doubles; i++)
    if (!get_double(env, obj, doubles[i].name, doubles[i].out, doubles[i].dflt)) return field_error(env, doubles[i].name, "is not a number");
  if (p->kv_heads == 0) p->kv_heads = p->heads;
  if (p->kv_heads < 1 || p->kv_heads > p->heads || p->heads % p->kv_heads != 0) {
    throw_type(env, "attention kernel: kvHeads must divide heads");
    return 0;
  }
  if (p->heads < 1 || p->nq < 1 || p->nk < 1 || p->dk < 1 || p->dv < 1 || p->op < OP_DOT || p->op > OP_L2 ||
      p->mask_kind < MASK_NONE || p->mask_kind > MASK_MATRIX || p->threads < 0 || fd_offset < 0) {
    throw_type(env, "attention kernel: sizes must be positive and options in range");
    return 0;
  }
  p->scale = (float)scale;
  p->fd = fd;
  p->fd_offset = (int64_t)fd_offset;
  const size_t h = (size_t)p->heads, cells = h * p->nq * p->nk;
  void *q, *k, *v, *w, *o, *raw, *scl, *mask, *control;
  const struct { const char *name; napi_typedarray_type type; size_t min; int optional; void **out; } arrays[] = {
    {"q", napi_float32_array, h * p->nq * p->dk, 0, &q},
    {"k", napi_float32_array, (size_t)p->kv_heads * p->nk * p->dk, 0, &k},
    {"v", napi_float32_array, (size_t)p->kv_heads * p->nk * p->dv, 0, &v},
    {"weights", napi_float32_array, cells, 1, &w},
    {"output", napi_float32_array, h * p->nq * p->dv, !need_output, &o},
    {"scores", napi_float32_array, cells, 1, &raw},
    {"scaled", napi_float32_array, cells, 1, &scl},
    {"mask", napi_uint8_array, (p->mask_per_head ? h : 1) * p->nq * p->nk, p->mask_kind != MASK_MATRIX, &mask},
    {"control", napi_int32_array, 2, 1, &control},
  };
  for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
    if (!get_array(env, obj, arrays[i].name, arrays[i].type, arrays[i].min, arrays[i].optional, arrays[i].out))
      return field_error(env, arrays[i].name, "is missing, of the wrong typed-array type, or shorter than its shape");
  if ((raw == NULL) != (scl == NULL) && need_output) {
    throw_type(env, "attention kernel: scores and scaled come together");
    return 0;
  }
  p->q = q, p->k = k, p->v = v, p->weights = w, p->output = o, p->raw = raw, p->scaled = scl;
  p->mask = p->mask_kind == MASK_MATRIX ? mask : NULL;
  p->control = control;
  return 1;
}

static napi_value number(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  AttnParams p;
  if (!read_params(env, argv[0], &p, 1)) return NULL;
  return number(env, attn_run(&p));
}

/*
 * Work on a libuv thread that resolves a promise with its return code: the first member of each kind of work
 * (AsyncRun, AsyncDiff). `keep` holds the argument objects, so their arrays outlive the work.
 */
typedef struct Async {
  int (*call)(struct Async *);
  int result;
  napi_ref keep[3];
  int kept;
  napi_deferred deferred;
  napi_async_work work;
} Async;

static void async_execute(napi_env env, void *data) {
  (void)env;
  Async *a = data;
  a->result = a->call(a);
}

static void async_complete(napi_env env, napi_status status, void *data) {
  Async *a = data;
  napi_resolve_deferred(env, a->deferred, number(env, status == napi_ok ? a->result : -1));
  for (int i = 0; i < a->kept; i++) napi_delete_reference(env, a->keep[i]);
  napi_delete_async_work(env, a->work);
  free(a);
}

/* Queue `a` (calloc'd, its inputs read) keeping argv[0..n) alive: its promise, or NULL with an error thrown. */
static napi_value start_async(napi_env env, Async *a, const char *what, napi_value *argv, int n) {
  napi_value promise, name;
  napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &name);
  for (; a->kept < n; a->kept++) {
    if (napi_create_reference(env, argv[a->kept], 1, &a->keep[a->kept]) != napi_ok) break;
  }
  int made = 0;
  if (a->kept < n || napi_create_promise(env, &a->deferred, &promise) != napi_ok ||
      !(made = napi_create_async_work(env, NULL, name, async_execute, async_complete, a, &a->work) == napi_ok) ||
      napi_queue_async_work(env, a->work) != napi_ok) {
    for (int i = 0; i < a->kept; i++) napi_delete_reference(env, a->keep[i]);
    if (made) napi_delete_async_work(env, a->work);
    free(a);
    napi_throw_error(env, NULL, "attention kernel: could not start the work");
    return NULL;
  }
  return promise;
}

static void *alloc_async(napi_env env, size_t bytes) {
  void *a = calloc(1, bytes);
  if (!a) napi_throw_error(env, NULL, "attention kernel: out of memory");
  return a;
}

typedef struct AsyncRun {
  Async base;
  AttnParams p;
} AsyncRun;

static int call_run(Async *a) { return attn_run(&((AsyncRun *)a)->p); }

static napi_value run_async(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  AsyncRun *a = alloc_async(env, sizeof *a);
  if (!a) return NULL;
  if (!read_params(env, argv[0], &a->p, 1)) {
    free(a);
    return NULL;
  }
  a->base.call = call_run;
  return start_async(env, &a->base, "attention", argv, 1);
}

static napi_value score_views(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  AttnParams p;
  if (!read_params(env, argv[0], &p, 0)) return NULL;
  if (!p.raw && !p.scaled) {
    throw_type(env, "attention kernel: scoreViews needs scores or scaled");
    return NULL;
  }
  p.weights = NULL, p.output = NULL, p.fd = -1;
  return number(env, attn_score_views(&p));
}

static napi_value row_stats(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return NULL;
  AttnParams p;
  if (!read_params(env, argv[0], &p, 0)) return NULL;
  napi_value holder;
  napi_create_object(env, &holder);
  napi_set_named_property(env, holder, "max", argv[1]);
  napi_set_named_property(env, holder, "sum", argv[2]);
  void *mx, *sm;
  const size_t rows = (size_t)p.heads * p.nq;
  if (!get_array(env, holder, "max", napi_float32_array, rows, 0, &mx) ||
      !get_array(env, holder, "sum", napi_float32_array, rows, 0, &sm)) {
    throw_type(env, "attention kernel: rowMax and rowSum must be Float32Arrays of heads × nq");
    return NULL;
  }
  p.weights = NULL, p.raw = p.scaled = NULL, p.fd = -1;
  return number(env, attn_row_stats(&p, mx, sm));
}

/*
 * sweep(params, outs) → number: one head's rows in a single pass (attn_sweep). outs holds Float64Arrays max, sum
 * (and optionally entropy) of params.nq, and optionally pooled (Float32Array) with poolBlockRows, poolBlockCols,
 * poolCols and row0 (the first row's index in the whole head); params.output is optional here.
 */
static napi_value sweep(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return NULL;
  AttnParams p;
  if (!read_params(env, argv[0], &p, 0)) return NULL;
  if (p.heads != 1) {
    throw_type(env, "attention kernel: sweep takes one head");
    return NULL;
  }
  AttnSweep sw;
  memset(&sw, 0, sizeof sw);
  const size_t rows = (size_t)p.nq;
  void *mx, *sm, *ent, *pooled;
  if (!get_int(env, argv[1], "poolBlockRows", &sw.pool_br, 1) || !get_int(env, argv[1], "poolBlockCols", &sw.pool_bc, 1) ||
      !get_int(env, argv[1], "poolCols", &sw.pool_cols, 1) || !get_int(env, argv[1], "row0", &sw.row0, 0) ||
      sw.pool_br < 1 || sw.pool_bc < 1 || sw.pool_cols < 1 || sw.row0 < 0) {
    throw_type(env, "attention kernel: sweep's pooling sizes must be positive integers");
    return NULL;
  }
  /* Pooled rows the call touches: from row0's to the last row's, each poolCols wide. */
  const size_t pooled_rows = (size_t)((sw.row0 + p.nq - 1) / sw.pool_br - sw.row0 / sw.pool_br + 1);
  if (!get_array(env, argv[1], "max", napi_float64_array, rows, 0, &mx) ||
      !get_array(env, argv[1], "sum", napi_float64_array, rows, 0, &sm) ||
      !get_array(env, argv[1], "entropy", napi_float64_array, rows, 1, &ent) ||
      !get_array(env, argv[1], "pooled", napi_float32_array, pooled_rows * sw.pool_cols, 1, &pooled)) {
    throw_type(env, "attention kernel: sweep needs Float64Arrays max, sum (entropy) of nq and a pooled Float32Array that covers the rows");
    return NULL;
  }
  if (pooled && (long long)sw.pool_bc * sw.pool_cols < p.nk) {
    throw_type(env, "attention kernel: the pooled columns do not cover the keys");
    return NULL;
  }
  sw.row_max = mx, sw.row_sum = sm, sw.row_ent = ent, sw.pooled = pooled;
  p.weights = NULL, p.raw = p.scaled = NULL, p.fd = -1;
  return number(env, attn_sweep(&p, &sw));
}

typedef struct AsyncDiff {
  Async base;
  AttnParams a, b;
  AttnDiff d;
} AsyncDiff;

static int call_diff(Async *x) {
  AsyncDiff *a = (AsyncDiff *)x;
  return attn_diff(&a->a, &a->b, &a->d);
}

/*
 * diffAsync(paramsA, paramsB, outs) → Promise<number>: attn_diff on a libuv thread (and the addon's helpers), so
 * the event loop keeps turning. outs: pooled, pooledMag (Float32Array, the pooled shape), rowMin, rowMax
 * (Float32Array of nq), rowNonFinite (Int32Array of nq), poolBlockRows, poolBlockCols, poolCols.
 */
static napi_value diff_async(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return NULL;
  AsyncDiff *a = alloc_async(env, sizeof *a);
  if (!a) return NULL;
  if (!read_params(env, argv[0], &a->a, 0) || !read_params(env, argv[1], &a->b, 0)) {
    free(a);
    return NULL;
  }
  AttnDiff *d = &a->d;
  if (a->a.heads != 1 || a->b.heads != 1 || a->a.nq != a->b.nq || a->a.nk != a->b.nk ||
      !get_int(env, argv[2], "poolBlockRows", &d->pool_br, 1) || !get_int(env, argv[2], "poolBlockCols", &d->pool_bc, 1) ||
      !get_int(env, argv[2], "poolCols", &d->pool_cols, 1) || d->pool_br < 1 || d->pool_bc < 1 || d->pool_cols < 1 ||
      (long long)d->pool_bc * d->pool_cols < a->a.nk) {
    free(a);
    throw_type(env, "attention kernel: diff takes two single heads of one size and pooling that covers them");
    return NULL;
  }
  const size_t rows = (size_t)a->a.nq, pooled = (size_t)((a->a.nq + d->pool_br - 1) / d->pool_br) * d->pool_cols;
  void *pl, *pm, *lo, *hi, *bad;
  if (!get_array(env, argv[2], "pooled", napi_float32_array, pooled, 0, &pl) ||
      !get_array(env, argv[2], "pooledMag", napi_float32_array, pooled, 0, &pm) ||
      !get_array(env, argv[2], "rowMin", napi_float32_array, rows, 0, &lo) ||
      !get_array(env, argv[2], "rowMax", napi_float32_array, rows, 0, &hi) ||
      !get_array(env, argv[2], "rowNonFinite", napi_int32_array, rows, 0, &bad)) {
    free(a);
    throw_type(env, "attention kernel: diff's outputs are missing or shorter than the head and the pooling");
    return NULL;
  }
  d->pooled = pl, d->pooled_mag = pm, d->row_min = lo, d->row_max = hi, d->row_nonfinite = bad;
  a->a.weights = a->b.weights = NULL, a->a.fd = a->b.fd = -1;
  a->base.call = call_diff;
  return start_async(env, &a->base, "attention-diff", argv, 3);
}

static napi_value release_cache(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  attn_release_cache();
  return NULL;
}

static napi_value info_fn(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, sup, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, attn_variant(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "variant", v);
  napi_create_object(env, &sup);
  const char *names[] = {"avx512", "avx2", "portable"};
  for (int i = 0; i < 3; i++) {
    napi_get_boolean(env, attn_supports(names[i]), &v);
    napi_set_named_property(env, sup, names[i], v);
  }
  napi_set_named_property(env, obj, "supported", sup);
  napi_set_named_property(env, obj, "threads", number(env, attn_threads()));
  return obj;
}

static napi_value set_variant(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[32] = "auto";
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc >= 1 && napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    throw_type(env, "setVariant takes a name");
    return NULL;
  }
  napi_value v;
  napi_get_boolean(env, attn_set_variant(name), &v);
  return v;
}

static napi_value machine(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t threads = 0, mib = 512;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc >= 1) napi_get_value_int32(env, argv[0], &threads);
  if (argc >= 2) napi_get_value_int32(env, argv[1], &mib);
  if (mib < 1) mib = 1;
  int lanes = 0;
  napi_value obj;
  napi_create_object(env, &obj);
  napi_set_named_property(env, obj, "peakGflops", number(env, machine_peak_gflops(threads, &lanes)));
  napi_set_named_property(env, obj, "lanes", number(env, lanes));
  napi_set_named_property(env, obj, "writeGBps", number(env, machine_write_gbps((size_t)mib << 20, 5)));
  napi_set_named_property(env, obj, "copyGBps", number(env, machine_copy_gbps((size_t)mib << 20, 5)));
  return obj;
}

/* widen(src: Uint16Array | Uint8Array, dst: Float32Array, table?: Uint32Array): see attn_widen. */
static napi_value widen(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  napi_typedarray_type st, dt, tt;
  size_t sn = 0, dn = 0, tn = 0;
  void *sd = NULL, *dd = NULL, *td = NULL;
  bool is = false;
  if (argc < 2 || napi_is_typedarray(env, argv[0], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[0], &st, &sn, &sd, NULL, NULL) != napi_ok ||
      napi_is_typedarray(env, argv[1], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[1], &dt, &dn, &dd, NULL, NULL) != napi_ok ||
      (st != napi_uint16_array && st != napi_uint8_array) || dt != napi_float32_array || dn < sn) {
    throw_type(env, "widen: (Uint16Array | Uint8Array, Float32Array of at least that length[, Uint32Array table])");
    return NULL;
  }
  napi_valuetype t = napi_undefined;
  if (argc >= 3) napi_typeof(env, argv[2], &t);
  if (t != napi_undefined && t != napi_null) {
    if (napi_is_typedarray(env, argv[2], &is) != napi_ok || !is ||
        napi_get_typedarray_info(env, argv[2], &tt, &tn, &td, NULL, NULL) != napi_ok ||
        tt != napi_uint32_array || tn < (st == napi_uint16_array ? 65536u : 256u)) {
      throw_type(env, "widen: the table must be a Uint32Array with an entry for every code");
      return NULL;
    }
  } else if (st != napi_uint16_array) {
    throw_type(env, "widen: 8-bit codes need a table");
    return NULL;
  }
  if (sn > 0) attn_widen(sd, st == napi_uint16_array ? 2 : 1, (const uint32_t *)td, (uint32_t *)dd, sn);
  return NULL;
}

/* nonFinite(a: Float32Array) → how many of its values are NaN or ±∞. */
static napi_value non_finite(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    throw_type(env, "nonFinite: (Float32Array)");
    return NULL;
  }
  napi_create_double(env, (double)(length ? attn_non_finite((const float *)data, length) : 0), &out);
  return out;
}

/* hugeOffset(buffer: ArrayBuffer) → the byte offset of its first 2 MiB boundary (see attn_huge_offset). */
static napi_value huge_offset(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  void *data;
  size_t bytes;
  bool is_ab = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab ||
      napi_get_arraybuffer_info(env, argv[0], &data, &bytes) != napi_ok) {
    throw_type(env, "hugeOffset: (ArrayBuffer)");
    return NULL;
  }
  napi_create_double(env, (double)(data ? attn_huge_offset(data, bytes) : 0), &out);
  return out;
}

typedef struct AsyncPrefault {
  Async base;
  char *p;
  size_t bytes;
} AsyncPrefault;

static int call_prefault(Async *a) {
  AsyncPrefault *f = (AsyncPrefault *)a;
  return attn_prefault(f->p, f->bytes);
}

/* (buffer: ArrayBuffer, offset, bytes) with the range inside the buffer: its start, or NULL with a TypeError. */
static char *buffer_range(napi_env env, napi_callback_info info, const char *what, napi_value *buffer, size_t *length) {
  size_t argc = 3;
  napi_value argv[3];
  void *data;
  size_t bytes;
  bool is_ab = false;
  double off = -1, len = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab ||
      napi_get_arraybuffer_info(env, argv[0], &data, &bytes) != napi_ok ||
      napi_get_value_double(env, argv[1], &off) != napi_ok || napi_get_value_double(env, argv[2], &len) != napi_ok ||
      !(off >= 0 && len >= 0 && off + len <= (double)bytes) || (double)(size_t)off != off || (double)(size_t)len != len) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s: (ArrayBuffer, offset, bytes) with the range inside the buffer", what);
    throw_type(env, msg);
    return NULL;
  }
  *buffer = argv[0];
  *length = data ? (size_t)len : 0;
  return data ? (char *)data + (size_t)off : (char *)"";
}

/* prefault(buffer: ArrayBuffer, offset, bytes) → Promise<0>: the range faulted in for writing off the event loop;
 * the buffer is kept alive until then, and the caller leaves the range alone meanwhile. */
static napi_value prefault(napi_env env, napi_callback_info info) {
  napi_value buffer;
  size_t bytes;
  char *p = buffer_range(env, info, "prefault", &buffer, &bytes);
  if (!p) return NULL;
  AsyncPrefault *a = alloc_async(env, sizeof *a);
  if (!a) return NULL;
  a->p = p;
  a->bytes = bytes;
  a->base.call = call_prefault;
  return start_async(env, &a->base, "prefault", &buffer, 1);
}

/* discard(buffer: ArrayBuffer, offset, bytes): the whole pages of the range handed back (they read as zeros). */
static napi_value discard(napi_env env, napi_callback_info info) {
  napi_value buffer;
  size_t bytes;
  char *p = buffer_range(env, info, "discard", &buffer, &bytes);
  if (p && bytes) attn_discard(p, bytes);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
    {"info", NULL, info_fn, NULL, NULL, NULL, napi_default, NULL},
    {"setVariant", NULL, set_variant, NULL, NULL, NULL, napi_default, NULL},
    {"run", NULL, run, NULL, NULL, NULL, napi_default, NULL},
    {"runAsync", NULL, run_async, NULL, NULL, NULL, napi_default, NULL},
    {"rowStats", NULL, row_stats, NULL, NULL, NULL, napi_default, NULL},
    {"sweep", NULL, sweep, NULL, NULL, NULL, napi_default, NULL},
    {"releaseCache", NULL, release_cache, NULL, NULL, NULL, napi_default, NULL},
    {"diffAsync", NULL, diff_async, NULL, NULL, NULL, napi_default, NULL},
    {"scoreViews", NULL, score_views, NULL, NULL, NULL, napi_default, NULL},
    {"machine", NULL, machine, NULL, NULL, NULL, napi_default, NULL},
    {"widen", NULL, widen, NULL, NULL, NULL, napi_default, NULL},
    {"hugeOffset", NULL, huge_offset, NULL, NULL, NULL, napi_default, NULL},
    {"prefault", NULL, prefault, NULL, NULL, NULL, napi_default, NULL},
    {"discard", NULL, discard, NULL, NULL, NULL, napi_default, NULL},
    {"nonFinite", NULL, non_finite, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
