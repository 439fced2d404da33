/*
 * The native attention kernel: softmax(sim(Q, K) · scale, masked) · V for every head, float32, on all cores.
 * Pure computation over caller-owned arrays (no I/O except the optional positional write of finished weight
 * rows to an open file descriptor). Runtime CPU dispatch picks AVX-512, AVX2 + FMA or a portable build.
 */
#ifndef ATTENTION_NATIVE_H
#define ATTENTION_NATIVE_H

#include <stddef.h>
#include <stdint.h>

enum { OP_DOT = 0, OP_L1 = 1, OP_L2 = 2 };
enum { MASK_NONE = 0, MASK_CAUSAL = 1, MASK_MATRIX = 2 };

/** One computation, described by the caller (the Node-API binding); the kernel adds its packed copies. */
typedef struct AttnParams {
  int heads, nq, nk, dk, dv;
  int kv_heads;    /* K/V heads (grouped-query attention): query head h reads K/V head h*kv_heads/heads */
  int op;          /* OP_DOT (cosine arrives as unit rows), OP_L1 (laplacian), OP_L2 (euclidean) */
  float scale;     /* the scores' factor before the softmax */
  int mask_kind;   /* MASK_* */
  int mask_offset; /* causal: query i sees keys j <= i + offset */
  const uint8_t *mask; /* MASK_MATRIX: [heads or 1][nq][nk], 1 = attend */
  int mask_per_head;
  const float *q, *k, *v; /* [h][nq][dk], [kv_heads][nk][dk], [kv_heads][nk][dv] */
  float *weights;  /* out [h][nq][nk], or NULL */
  float *output;   /* out [h][nq][dv] */
  float *raw, *scaled; /* out [h][nq][nk] score views, or NULL */
  int fd;          /* >= 0: also pwrite each block's weights here at fd_offset + 4·element */
  int64_t fd_offset;
  int32_t *control; /* optional [abort flag, rows done], read and written atomically; may be shared with JS */
  int threads;     /* 0 = every core */
  int cache_key;   /* one head (attn_run, attn_sweep): nonzero = its packed K/V may be kept by this thread for the
                      next call with the same key and arrays (the caller promises they do not change under one key) */
} AttnParams;

/** Compute; returns 0, -1 when aborted through control[0], or the errno of a failed weights write. */
int attn_run(const AttnParams *p);

/** The score views only: raw and scaled (masked −inf) scores into p->raw and p->scaled; no softmax. */
int attn_score_views(const AttnParams *p);

/**
 * Row statistics for a streamed pass over long contexts: per query row, the max of the scaled, masked scores
 * and Σ exp(score − max) over every key (weights and output untouched; out arrays [h][nq] each).
 */
int attn_row_stats(const AttnParams *p, float *row_max, float *row_sum);

/**
 * What one call of the streamed long-context sweep returns besides the output rows (p->output, or none when
 * NULL): per query row of p (one head), its softmax max (natural units, −inf for a row with no visible key, NaN
 * for a NaN score) and Σ exp(score − max), its entropy in nats, and its weights max-pooled into `pooled`. The
 * rows are rows row0… of the whole head; pooled holds the pooled rows from row0 / pool_br on, pool_cols wide,
 * each cell raised to the largest weight of its block (pool_br rows × pool_bc keys). No weights are written.
 */
typedef struct AttnSweep {
  double *row_max, *row_sum; /* [nq] */
  double *row_ent;           /* [nq], or NULL */
  float *pooled;             /* or NULL */
  int pool_br, pool_bc, pool_cols, row0;
} AttnSweep;

/** One head's rows in a single pass (see AttnSweep); returns as attn_run. p->weights and score views are ignored. */
int attn_sweep(const AttnParams *p, const AttnSweep *s);

/**
 * A − B of two heads' weights (same nq × nk; each its own Q, K, similarity, scale and causal mask), never held whole:
 * each cell's difference (0 where equal) pooled into `pooled` by largest magnitude, sign kept (`pooled_mag` holds
 * the winners' magnitudes; the caller fills them with −inf and −1), NaN never winning; per row the smallest and
 * largest difference (+inf / −inf when none is a number) and how many are NaN. The rules of shared/pool.ts
 * poolRowsInto and finiteRange, for the Compare view of streamed heads.
 */
typedef struct AttnDiff {
  float *pooled, *pooled_mag; /* [ceil(nq / pool_br)][pool_cols] */
  float *row_min, *row_max;   /* [nq] */
  int32_t *row_nonfinite;     /* [nq] */
  int pool_br, pool_bc, pool_cols;
} AttnDiff;

/** Returns as attn_run (progress and abort through pa->control); threads from pa->threads. */
int attn_diff(const AttnParams *pa, const AttnParams *pb, const AttnDiff *d);

/** Free this thread's packed K/V kept by attn_sweep. */
void attn_release_cache(void);

/** The variant in use and whether each is supported here: "avx512", "avx2", "portable". */
const char *attn_variant(void);
int attn_supports(const char *variant);
/** Force a variant (tests, bench); returns 0 if this CPU cannot run it. NULL or "auto" = the best one. */
int attn_set_variant(const char *variant);
int attn_threads(void);

/* Where the first 2 MiB boundary falls in [p, p + bytes) (bytes from p), with transparent huge pages asked for
 * over the whole 2 MiB pages from there on; 0 when none falls inside. For the caller's fresh arrays: a view
 * starting there faults in one page per 2 MiB instead of one per 4 KiB. */
size_t attn_huge_offset(void *p, size_t bytes);

/* Fault in [p, p + bytes) for writing, huge pages asked for first, leaving its contents as they are: the
 * engine's reserve of mapped memory is made ready this way on a libuv thread while the event loop is idle, so a
 * later job writes to pages already there. Nothing else may touch the range meanwhile. Returns 0, or the errno
 * of a refusal other than "not supported" (ENOMEM), with nothing touched. */
int attn_prefault(void *p, size_t bytes);

/* Hand the whole pages inside [p, p + bytes) back to the system (they read as zeros afterwards, and fault in
 * fresh when next written): the reserve's idle memory, given back at once instead of whenever V8 collects it. */
void attn_discard(void *p, size_t bytes);

/* How many of a[0, n) are NaN or ±∞ (the inputs' warning). */
size_t attn_non_finite(const float *a, size_t n);

/* Narrow floats widened to float32 (safetensors dumps): bf16 bit patterns shifted into the top half
 * (table NULL, src 16-bit), or each 8/16-bit code looked up in `table` (float32 bit patterns). dst gets huge
 * pages first, so a 64 MiB result faults in 32 pages, not 16384. */
void attn_widen(const void *src, int src_bytes, const uint32_t *table, uint32_t *dst, size_t n);

#endif
