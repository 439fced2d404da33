/*
 * The native attention kernel (see attention.h): three builds of one kernel body (kernel_body.h), each
 * compiled for its instruction set with GCC's target pragma, chosen at run time from cpuid, so one binary
 * runs on every x86-64 CPU (and the portable build everywhere else). Work is split into blocks of query rows
 * taken from an atomic counter by the calling thread and persistent helper threads.
 */
#define _GNU_SOURCE
#include "attention.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#define AI __attribute__((always_inline))

typedef struct Job {
  const AttnParams *p;
  int heads, nq, nk, dk, dv, nkp, dvp, op, mask_kind, mask_offset, mask_per_head, br;
  float scale;
  const uint8_t *mask;
  const float *q;
  float *kt, *vp; /* packed K panels and padded V, per head */
  size_t kt_stride, vp_stride;
  float *weights, *output, *raw, *scaled;
  float *row_max, *row_sum; /* row statistics mode when set */
  int views_only;          /* score views mode */
  const AttnSweep *sweep;  /* the streamed sweep's row results, when set */
  void (*runner)(struct Job *); /* a job with its own per-thread loop (attn_diff) instead of work()'s */
  void *ctx;
  int cached;              /* kt and vp belong to this thread's PackCache, not to the job */
  int stream;              /* weights written with non-temporal stores */
  int total;               /* blocks over all heads */
  int per_head;            /* blocks per head */
  int next;                /* atomic: next block */
  int err;                 /* atomic: first write errno */
} Job;

typedef struct Scratch {
  float *q, *s, *o, *inv, *w;
  int *lim;
  float *base; /* the one allocation the parts are carved from */
  size_t cap;  /* its size in floats */
} Scratch;

static inline int row_limit(const Job *job, int i) {
  if (job->mask_kind != MASK_CAUSAL) return job->nk;
  long lim = (long)i + job->mask_offset + 1;
  return lim < 0 ? 0 : lim > job->nk ? job->nk : (int)lim;
}

#if defined(__x86_64__) || defined(__i386__)
#define X86 1
#include <immintrin.h>
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,fma")
#define V 16
#define MR 8
#define NV 4
#define FN(x) x##_avx512
#define NT_STORE(p, x) _mm512_stream_ps((p), (__m512)(x))
#include "kernel_body.h"
#undef NT_STORE
#undef V
#undef MR
#undef NV
#undef FN
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define V 8
#define MR 4
#define NV 2
#define FN(x) x##_avx2
#define NT_STORE(p, x) _mm256_stream_ps((p), (__m256)(x))
#include "kernel_body.h"
#undef NT_STORE
#undef V
#undef MR
#undef NV
#undef FN
#pragma GCC pop_options
#endif

/* Portable: 128-bit vectors (SSE2 on x86-64, NEON on arm64, scalar code elsewhere). */
#define V 4
#define MR 4
#define NV 2
#define FN(x) x##_portable
#include "kernel_body.h"
#undef V
#undef MR
#undef NV
#undef FN

typedef struct Variant {
  const char *name;
  int panel;  /* keys per packed K panel (2 vectors) */
  int vcols;  /* value columns per P·V tile: dv is padded to a multiple */
  void (*block)(const Job *, Scratch *, int, int, int, float *);
  void (*stats)(const Job *, Scratch *, int, int, int, float *, float *);
  void (*views)(const Job *, Scratch *, int, int, int);
} Variant;

static const Variant VARIANTS[] = {
#ifdef X86
  {"avx512", 32, 64, block_avx512, stats_avx512, views_avx512},
  {"avx2", 16, 16, block_avx2, stats_avx2, views_avx2},
#endif
  {"portable", 8, 8, block_portable, stats_portable, views_portable},
};
enum { NVARIANTS = sizeof VARIANTS / sizeof VARIANTS[0] };

static int supported(const Variant *v) {
#ifdef X86
  __builtin_cpu_init();
  if (strcmp(v->name, "avx512") == 0)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
  if (strcmp(v->name, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return 1;
}

static const Variant *chosen;

static const Variant *variant(void) {
  if (chosen) return chosen;
  const char *env = getenv("ATTN_NATIVE_VARIANT");
  if (env && *env && strcmp(env, "auto") != 0 && attn_set_variant(env)) return chosen;
  for (int i = 0; i < NVARIANTS; i++)
    if (supported(&VARIANTS[i])) return chosen = &VARIANTS[i];
  return chosen = &VARIANTS[NVARIANTS - 1];
}

const char *attn_variant(void) { return variant()->name; }

int attn_supports(const char *name) {
  for (int i = 0; i < NVARIANTS; i++)
    if (strcmp(VARIANTS[i].name, name) == 0) return supported(&VARIANTS[i]);
  return 0;
}

int attn_set_variant(const char *name) {
  if (!name || strcmp(name, "auto") == 0) {
    chosen = NULL;
    for (int i = 0; i < NVARIANTS; i++)
      if (supported(&VARIANTS[i])) return (chosen = &VARIANTS[i]) != NULL;
  }
  for (int i = 0; i < NVARIANTS; i++) {
    if (strcmp(VARIANTS[i].name, name) == 0 && supported(&VARIANTS[i])) {
      chosen = &VARIANTS[i];
      return 1;
    }
  }
  return 0;
}

/* ---- memory ---- */

static void *alloc64(size_t bytes) {
  void *p = NULL;
  return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

#define HUGE_PAGE ((size_t)2 << 20)

/* madvise(advice) over the whole `page`-sized pages inside [p, p + bytes): madvise's result, or 1 when no whole
 * page falls inside. */
static int advise_pages(void *p, size_t bytes, size_t page, int advice) {
  const uintptr_t a = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
  const uintptr_t b = ((uintptr_t)p + bytes) & ~(uintptr_t)(page - 1);
  return b > a ? madvise((void *)a, b - a, advice) : 1;
}

/* Ask for transparent huge pages over the whole 2 MiB pages inside [p, p + bytes), before their first write:
 * a 64 MiB weights array then faults in 32 pages instead of 16384 (the kernel's THP mode is usually "madvise";
 * in this VM a 4 KiB fault costs ~14 µs and a 2 MiB one ~0.1 ms). Harmless where unsupported. */
static void huge_pages(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (p) advise_pages(p, bytes, HUGE_PAGE, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

size_t attn_huge_offset(void *p, size_t bytes) {
  const uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  const size_t off = a - (uintptr_t)p;
  if (off >= bytes) return 0;
  huge_pages((char *)p + off, bytes - off);
  return off;
}

int attn_prefault(void *p, size_t bytes) {
  if (!p || !bytes) return 0;
  huge_pages(p, bytes);
#ifdef MADV_POPULATE_WRITE
  /* One call faults the range in (Linux 5.14 and later); older kernels refuse it (EINVAL) and get the loop below.
   * Any other refusal (ENOMEM: the system is short of memory) is returned, and nothing is touched. */
  if (advise_pages(p, bytes, 4096, MADV_POPULATE_WRITE) >= 0) return 0;
  if (errno != EINVAL) return errno;
#endif
  volatile char *c = p;
  for (size_t i = 0; i < bytes; i += 4096) c[i] = c[i];
  c[bytes - 1] = c[bytes - 1];
  return 0;
}

void attn_discard(void *p, size_t bytes) {
  if (p) advise_pages(p, bytes, 4096, MADV_DONTNEED);
}

/*
 * Packed K/V buffers, kept for the next job like BLAS keeps its packing buffers: allocating them per job meant
 * fresh pages each time (32 faults, ~0.45 ms here, in a 0.5 ms job at n = 512), and left the streamed sweep's
 * 8 MiB copies to glibc's per-thread arenas. A few free buffers wait here, at most PACK_KEEP bytes in all (K and V
 * of one head at n = 32,768); each starts with a header that records its capacity. Buffers of 1 MiB and up are
 * 2 MiB aligned, with huge pages.
 */
enum { PACK_SLOTS = 4, PACK_HEADER = 64 };
#define PACK_KEEP ((size_t)16 << 20)
static pthread_mutex_t pack_lock = PTHREAD_MUTEX_INITIALIZER;
static void *pack_free_list[PACK_SLOTS];

static size_t pack_cap(const void *block) { return *(const size_t *)block; }

/* A buffer of at least `bytes` (64-byte aligned), or NULL. */
static float *pack_alloc(size_t bytes) {
  void *best = NULL;
  int at = -1;
  pthread_mutex_lock(&pack_lock);
  for (int i = 0; i < PACK_SLOTS; i++) {
    void *b = pack_free_list[i];
    if (b && pack_cap(b) >= bytes && (!best || pack_cap(b) < pack_cap(best))) best = b, at = i;
  }
  if (at >= 0) pack_free_list[at] = NULL;
  pthread_mutex_unlock(&pack_lock);
  if (!best) {
    const int big = bytes >= ((size_t)1 << 20);
    const size_t cap = big ? (bytes + PACK_HEADER + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1) : bytes + PACK_HEADER;
    if (posix_memalign(&best, big ? HUGE_PAGE : 64, cap) != 0) return NULL;
    if (big) huge_pages(best, cap);
    *(size_t *)best = cap - PACK_HEADER;
  }
  return (float *)((char *)best + PACK_HEADER);
}

/* Give a pack_alloc buffer back: kept for the next job, the smallest kept ones dropped to stay within PACK_KEEP. */
static void pack_free(float *p) {
  if (!p) return;
  void *block = (char *)p - PACK_HEADER;
  void *drop[PACK_SLOTS + 1];
  int drops = 0;
  pthread_mutex_lock(&pack_lock);
  if (pack_cap(block) > PACK_KEEP) {
    drop[drops++] = block;
  } else {
    for (;;) {
      size_t kept = pack_cap(block);
      int empty = -1, smallest = -1;
      for (int i = 0; i < PACK_SLOTS; i++) {
        void *b = pack_free_list[i];
        if (!b) {
          empty = i;
          continue;
        }
        kept += pack_cap(b);
        if (smallest < 0 || pack_cap(b) < pack_cap(pack_free_list[smallest])) smallest = i;
      }
      if (empty >= 0 && kept <= PACK_KEEP) {
        pack_free_list[empty] = block;
        break;
      }
      drop[drops++] = pack_free_list[smallest]; /* ends: with every slot empty, block alone fits */
      pack_free_list[smallest] = NULL;
    }
  }
  pthread_mutex_unlock(&pack_lock);
  for (int i = 0; i < drops; i++) free(drop[i]);
}

/* Per-thread scratch, grown to the largest job seen and kept (the helpers and callers are long-lived). */
static _Thread_local Scratch tls;

static int scratch_for(const Job *job, Scratch *sc) {
  const size_t rows = (size_t)job->br;
  const size_t need = rows * ((size_t)job->dk + job->nkp + job->dvp + 2 + (job->p->fd >= 0 ? job->nk : 0)) + 64 * 6;
  if (sc->cap < need) {
    free(sc->base);
    sc->base = alloc64(need * 4);
    sc->cap = sc->base ? need : 0;
    if (!sc->base) return 0;
  }
  /* Carve the one allocation into 64-byte aligned parts. */
  float *at = sc->base;
#define TAKE(n) (at = (float *)(((uintptr_t)(at) + 63) & ~(uintptr_t)63), at += (n), at - (n))
  sc->q = TAKE(rows * job->dk);
  sc->s = TAKE(rows * job->nkp);
  sc->o = TAKE(rows * job->dvp);
  sc->inv = TAKE(rows);
  sc->lim = (int *)TAKE(rows);
  sc->w = job->p->fd >= 0 ? TAKE(rows * job->nk) : NULL;
#undef TAKE
  return 1;
}

/* ---- the work of one thread ---- */

static int write_all(int fd, const void *buf, size_t bytes, int64_t at) {
  const char *c = buf;
  while (bytes > 0) {
    ssize_t n = pwrite(fd, c, bytes, (off_t)at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno ? errno : EIO;
    }
    c += n;
    bytes -= (size_t)n;
    at += n;
  }
  return 0;
}

static void work(Job *job) {
  if (job->runner) {
    job->runner(job);
    return;
  }
  const Variant *var = variant();
  Scratch *sc = &tls;
  const int ok = scratch_for(job, sc);
  int32_t *control = job->p->control;
  for (;;) {
    if (control && __atomic_load_n(&control[0], __ATOMIC_RELAXED)) break;
    if (__atomic_load_n(&job->err, __ATOMIC_RELAXED)) break;
    const int b = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
    if (b >= job->total) break;
    if (!ok) {
      __atomic_store_n(&job->err, ENOMEM, __ATOMIC_RELAXED);
      break;
    }
    const int h = b / job->per_head;
    const int r0 = (b % job->per_head) * job->br;
    const int n = job->nq - r0 < job->br ? job->nq - r0 : job->br;
    if (job->views_only) {
      var->views(job, sc, h, r0, n);
    } else if (job->row_max) {
      const size_t at = (size_t)h * job->nq + r0;
      var->stats(job, sc, h, r0, n, job->row_max + at, job->row_sum + at);
    } else {
      const size_t at = ((size_t)h * job->nq + r0) * job->nk;
      float *w = job->weights ? job->weights + at : sc->w;
      var->block(job, sc, h, r0, n, w);
      if (job->p->fd >= 0 && w) {
        const int e = write_all(job->p->fd, w, (size_t)n * job->nk * 4, job->p->fd_offset + (int64_t)at * 4);
        if (e) {
          int zero = 0;
          __atomic_compare_exchange_n(&job->err, &zero, e, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
        }
      }
    }
    if (control) __atomic_fetch_add(&control[1], n, __ATOMIC_RELAXED);
  }
#ifdef X86
  if (job->stream) _mm_sfence(); /* non-temporal stores are weakly ordered: done before the job says so */
#endif
}

/* ---- helper threads: persistent, woken per job ---- */

/*
 * A helper joins a job only while the job is open (pool_job set); the caller closes it once every block is
 * taken and then waits only for the helpers that joined. So on a busy machine a helper scheduled late never
 * delays a job it had no part in (it wakes, finds no job, and sleeps again).
 */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER; /* one job at a time uses the helpers */
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static Job *pool_job;
static unsigned pool_generation;
static int pool_active; /* helpers working on pool_job */
static int pool_wanted; /* helpers that may join this job */
static int pool_size;   /* helpers started */
static pthread_t pool_threads[64];
static int pool_steered = -1; /* the caller's core the helpers were last kept off (steer_helpers) */

static void *helper(void *arg) {
  const int index = (int)(intptr_t)arg;
  unsigned seen = 0;
  pthread_mutex_lock(&pool_lock);
  for (;;) {
    while (pool_generation == seen) pthread_cond_wait(&pool_wake, &pool_lock);
    seen = pool_generation;
    Job *job = pool_job;
    if (!job || index >= pool_wanted) continue;
    pool_active++;
    pthread_mutex_unlock(&pool_lock);
    work(job);
    pthread_mutex_lock(&pool_lock);
    if (--pool_active == 0) pthread_cond_signal(&pool_done);
  }
  return NULL;
}

int attn_threads(void) {
  /* Read once: glibc's sysconf reads /sys/devices/system/cpu/online (three system calls, ~0.1 ms cold in a VM),
   * and every job asks. */
  static int cores;
  int n = __atomic_load_n(&cores, __ATOMIC_RELAXED);
  if (n == 0) {
    const long c = sysconf(_SC_NPROCESSORS_ONLN);
    n = c < 1 ? 1 : c > 64 ? 64 : (int)c;
    __atomic_store_n(&cores, n, __ATOMIC_RELAXED);
  }
  return n;
}

/* Start helpers until there are `want` (pool_lock held). */
static void start_helpers(int want) {
  while (pool_size < want) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int fail = pthread_create(&t, &attr, helper, (void *)(intptr_t)pool_size);
    pthread_attr_destroy(&attr);
    if (fail) break;
    pool_threads[pool_size++] = t;
    pool_steered = -1; /* a new helper runs anywhere until the next job steers it */
  }
}

/*
 * Keep the helpers off the caller's core (pool_lock held). A woken thread is first placed on its waker's core and
 * moves to an idle one only when the scheduler balances load: measured here, a helper started 1.2 ms into a
 * 1.8 ms job and took 4 of its 16 blocks. Allowed every core of the caller's but its own, it starts on another
 * core at once (0.2 ms in this VM). Redone only when the caller is on another core than last time.
 */
static void steer_helpers(int helpers) {
#ifdef __linux__
  const int cpu = sched_getcpu();
  if (cpu < 0 || cpu == pool_steered) return;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0 || !CPU_ISSET(cpu, &set) || CPU_COUNT(&set) < 2) return;
  CPU_CLR(cpu, &set);
  for (int i = 0; i < helpers; i++) pthread_setaffinity_np(pool_threads[i], sizeof set, &set);
  pool_steered = cpu;
#else
  (void)helpers;
#endif
}

/* Run job on up to `threads` threads: this one plus threads − 1 helpers. */
static void run_parallel(Job *job, int threads) {
  if (threads <= 1) {
    /* This thread alone: no helpers, so no lock (the streamed sweep calls from every pool worker at once). */
    work(job);
    return;
  }
  pthread_mutex_lock(&job_lock);
  pthread_mutex_lock(&pool_lock);
  start_helpers(threads - 1);
  const int helpers = threads - 1 < pool_size ? threads - 1 : pool_size;
  if (helpers > 0) {
    steer_helpers(helpers);
    pool_job = job;
    pool_wanted = helpers;
    pool_generation++;
    pthread_cond_broadcast(&pool_wake);
  }
  pthread_mutex_unlock(&pool_lock);
  work(job);
  if (helpers > 0) {
    pthread_mutex_lock(&pool_lock);
    pool_job = NULL; /* every block is taken: no one joins any more */
    while (pool_active > 0) pthread_cond_wait(&pool_done, &pool_lock);
    pthread_mutex_unlock(&pool_lock);
  }
  pthread_mutex_unlock(&job_lock);
}

/* ---- job setup ---- */

/*
 * One thread's packed K/V of its last streamed head (attn_sweep), kept between calls: a sweep calls once per chunk
 * of rows, and under a causal mask every later chunk needs a prefix of the keys the first (longest) one packed.
 * Valid for the same cache key and arrays; the buffers only grow (freed with attn_release_cache).
 */
typedef struct PackCache {
  int key, nk, dk, dv, has_v;
  const Variant *var;
  const float *k, *v;
  float *kt, *vp;
  size_t kt_cap, vp_cap; /* floats */
} PackCache;

static _Thread_local PackCache pack_cache;

static float *grow(float **buf, size_t *cap, size_t need) {
  if (*cap >= need) return *buf;
  pack_free(*buf);
  *buf = pack_alloc(need * 4);
  *cap = *buf ? need : 0;
  return *buf;
}

static int prepare_cached(Job *job, const AttnParams *p, int with_v, PackCache *cache);

static int prepare(Job *job, const AttnParams *p, int with_v) { return prepare_cached(job, p, with_v, NULL); }

/* Sizes and packed copies of K (panels of P keys, [dk][P] each) and V (rows padded to dvp); from `cache` when
 * it holds this head's keys (one head only), else packed into it or into fresh buffers `finish` frees. */
static int prepare_cached(Job *job, const AttnParams *p, int with_v, PackCache *cache) {
  const Variant *var = variant();
  memset(job, 0, sizeof *job);
  job->p = p;
  job->heads = p->heads, job->nq = p->nq, job->nk = p->nk, job->dk = p->dk, job->dv = p->dv;
  job->op = p->op, job->scale = p->scale, job->mask_kind = p->mask_kind, job->mask_offset = p->mask_offset;
  job->mask = p->mask, job->mask_per_head = p->mask_per_head, job->q = p->q;
  job->weights = p->weights, job->output = p->output, job->raw = p->raw, job->scaled = p->raw ? p->scaled : NULL;
  job->nkp = (p->nk + 31) & ~31;
  job->dvp = (p->dv + var->vcols - 1) / var->vcols * var->vcols;
  /* Query rows per block: the block's scores (rows × nkp floats) stay within ~512 KiB of L2. */
  int br = (int)((1u << 17) / (unsigned)job->nkp) & ~7;
  job->br = br < 8 ? 8 : br > 64 ? 64 : br;
  job->per_head = (p->nq + job->br - 1) / job->br;
  job->total = job->per_head * p->heads;
  job->kt_stride = (size_t)job->nkp * p->dk;
  job->vp_stride = (size_t)p->nk * job->dvp;
  if (cache && p->heads == 1) {
    job->cached = 1;
    if (cache->key == p->cache_key && cache->var == var && cache->k == p->k && cache->dk == p->dk && cache->nk >= p->nk &&
        (!with_v || (cache->has_v && cache->v == p->v && cache->dv == p->dv))) {
      job->kt = cache->kt;
      job->vp = with_v ? cache->vp : NULL;
      return 1;
    }
    cache->key = 0; /* invalid until packed */
    job->kt = grow(&cache->kt, &cache->kt_cap, job->kt_stride);
    job->vp = with_v ? grow(&cache->vp, &cache->vp_cap, job->vp_stride) : NULL;
  } else {
    job->kt = pack_alloc(job->kt_stride * p->heads * 4);
    job->vp = with_v ? pack_alloc(job->vp_stride * p->heads * 4) : NULL;
  }
  if (!job->kt || (with_v && !job->vp)) return 0;
  const int P = var->panel;
  const int kv_heads = p->kv_heads > 0 ? p->kv_heads : p->heads;
  for (int h = 0; h < p->heads; h++) {
    /* Grouped-query attention: query head h reads K/V head h*kv_heads/heads (repeat_kv); packed per query head. */
    const size_t g = (size_t)((long long)h * kv_heads / p->heads);
    const float *k = p->k + g * p->nk * p->dk;
    float *kt = job->kt + h * job->kt_stride;
    for (int j0 = 0; j0 < job->nkp; j0 += P)
      for (int t = 0; t < p->dk; t++)
        for (int l = 0; l < P; l++) {
          const int j = j0 + l;
          kt[(size_t)j0 * p->dk + (size_t)t * P + l] = j < p->nk ? k[(size_t)j * p->dk + t] : 0.0f;
        }
    if (!with_v) continue;
    const float *v = p->v + g * p->nk * p->dv;
    float *vp = job->vp + h * job->vp_stride;
    for (int j = 0; j < p->nk; j++) {
      memcpy(vp + (size_t)j * job->dvp, v + (size_t)j * p->dv, (size_t)p->dv * 4);
      memset(vp + (size_t)j * job->dvp + p->dv, 0, (size_t)(job->dvp - p->dv) * 4);
    }
  }
  if (job->cached) {
    cache->key = p->cache_key, cache->var = var, cache->k = p->k, cache->v = p->v;
    cache->nk = p->nk, cache->dk = p->dk, cache->dv = p->dv, cache->has_v = with_v;
  }
  return 1;
}

static int threads_for(const AttnParams *p, const Job *job) {
  int threads = p->threads > 0 ? p->threads : attn_threads();
  /* A job this small (n = 256 at d = 64: ~0.2 ms) is done before a helper would wake up for it, and on a busy
   * machine a helper preempted in the middle of its block would make the caller wait for it. */
  const double work = (double)p->heads * p->nq * p->nk * (p->dk + p->dv);
  if (work < 384.0 * 384 * 128) threads = 1;
  return threads > job->total ? job->total : threads;
}

static int finish(Job *job, const AttnParams *p) {
  if (!job->cached) {
    pack_free(job->kt);
    pack_free(job->vp);
  }
  if (job->err) return job->err;
  if (p->control && __atomic_load_n(&p->control[0], __ATOMIC_RELAXED)) return -1;
  return 0;
}

/* prepare, through this thread's PackCache when the caller gave a cache key for one head; frees on failure. */
static int setup(Job *job, const AttnParams *p, int with_v) {
  if (prepare_cached(job, p, with_v, p->cache_key && p->heads == 1 ? &pack_cache : NULL)) return 1;
  if (!job->cached) {
    pack_free(job->kt);
    pack_free(job->vp);
  }
  return 0;
}

int attn_run(const AttnParams *p) {
  Job job;
  if (!setup(&job, p, 1)) return ENOMEM;
  const size_t cells = (size_t)p->heads * p->nq * p->nk * 4;
  huge_pages(p->weights, cells);
  /* Weights beyond what the caches hold go around them (16 MiB: n ≈ 2048 and up). */
  job.stream = p->weights && cells >= (16u << 20);
  if (p->raw) {
    huge_pages(p->raw, cells);
    huge_pages(p->scaled, cells);
  }
  run_parallel(&job, threads_for(p, &job));
  return finish(&job, p);
}

int attn_score_views(const AttnParams *p) {
  Job job;
  if (!p->raw && !p->scaled) return EINVAL;
  if (!prepare(&job, p, 1)) {
    pack_free(job.kt);
    pack_free(job.vp);
    return ENOMEM;
  }
  job.views_only = 1;
  job.scaled = p->scaled; /* either view alone is fine here */
  const size_t cells = (size_t)p->heads * p->nq * p->nk * 4;
  if (p->raw) huge_pages(p->raw, cells);
  if (p->scaled) huge_pages(p->scaled, cells);
  run_parallel(&job, threads_for(p, &job));
  return finish(&job, p);
}

int attn_row_stats(const AttnParams *p, float *row_max, float *row_sum) {
  Job job;
  if (!prepare(&job, p, 1)) {
    pack_free(job.kt);
    pack_free(job.vp);
    return ENOMEM;
  }
  job.raw = job.scaled = NULL;
  job.row_max = row_max;
  job.row_sum = row_sum;
  run_parallel(&job, threads_for(p, &job));
  return finish(&job, p);
}

int attn_sweep(const AttnParams *p, const AttnSweep *s) {
  if (p->heads != 1 || !s->row_max || !s->row_sum) return EINVAL;
  if (s->pooled && (s->pool_br < 1 || s->pool_bc < 1 || s->pool_cols < 1 || s->row0 < 0 ||
                    (long long)s->pool_bc * s->pool_cols < p->nk))
    return EINVAL;
  Job job;
  if (!setup(&job, p, p->output != NULL)) return ENOMEM;
  job.weights = job.raw = job.scaled = NULL;
  job.output = p->output;
  job.sweep = s;
  run_parallel(&job, threads_for(p, &job));
  return finish(&job, p);
}

/* ---- A − B of two heads' weights, pooled (attn_diff) ---- */

typedef struct DiffJob {
  Job *a, *b;
  const AttnDiff *d;
  int unit;  /* rows per unit of work: a multiple of pool_br, so each pooled row has one writer */
  int units;
  int next;  /* atomic */
} DiffJob;

/* Per-thread rows of A's and B's weights for one block of rows. */
static _Thread_local float *diff_rows;
static _Thread_local size_t diff_cap;

static void diff_fold(const DiffJob *dj, const float *wa, const float *wb, int g) {
  const AttnDiff *d = dj->d;
  const int nk = dj->a->nk;
  float *prow = d->pooled + (size_t)(g / d->pool_br) * d->pool_cols;
  float *mrow = d->pooled_mag + (size_t)(g / d->pool_br) * d->pool_cols;
  float lo = INFINITY, hi = -INFINITY;
  int bad = 0;
  for (int oc = 0; oc < d->pool_cols; oc++) {
    const int c0 = oc * d->pool_bc;
    const int c1 = c0 + d->pool_bc < nk ? c0 + d->pool_bc : nk;
    float best = prow[oc], best_mag = mrow[oc];
    for (int j = c0; j < c1; j++) {
      /* diffValue: x === y ? 0 : x − y (weights are finite or NaN, never ±inf) */
      const float x = wa[j], y = wb[j];
      const float v = x == y ? 0.0f : x - y;
      if (v != v) {
        bad++;
        continue;
      }
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
      const float m = v < 0 ? -v : v;
      if (m > best_mag) {
        best_mag = m;
        best = v;
      }
    }
    prow[oc] = best;
    mrow[oc] = best_mag;
  }
  d->row_min[g] = lo;
  d->row_max[g] = hi;
  d->row_nonfinite[g] = bad;
}

static void diff_work(Job *job) {
  DiffJob *dj = job->ctx;
  const Variant *var = variant();
  Scratch *sc = &tls;
  Job *ja = dj->a, *jb = dj->b;
  const int nk = ja->nk, br = ja->br < jb->br ? ja->br : jb->br;
  int32_t *control = ja->p->control;
  if (diff_cap < (size_t)2 * br * nk) {
    free(diff_rows);
    diff_rows = alloc64((size_t)2 * br * nk * 4);
    diff_cap = diff_rows ? (size_t)2 * br * nk : 0;
  }
  float *wa = diff_rows, *wb = diff_rows ? diff_rows + (size_t)br * nk : NULL;
  for (;;) {
    if (control && __atomic_load_n(&control[0], __ATOMIC_RELAXED)) break;
    const int u = __atomic_fetch_add(&dj->next, 1, __ATOMIC_RELAXED);
    if (u >= dj->units) break;
    if (!wa || !scratch_for(ja, sc) || !scratch_for(jb, sc)) {
      __atomic_store_n(&ja->err, ENOMEM, __ATOMIC_RELAXED);
      break;
    }
    const int u0 = u * dj->unit;
    const int u1 = u0 + dj->unit < ja->nq ? u0 + dj->unit : ja->nq;
    for (int r0 = u0; r0 < u1; r0 += br) {
      const int n = u1 - r0 < br ? u1 - r0 : br;
      /* Scratch is sized for the larger of the two heads' widths, so carving it for either is safe. */
      scratch_for(ja, sc);
      var->block(ja, sc, 0, r0, n, wa);
      scratch_for(jb, sc);
      var->block(jb, sc, 0, r0, n, wb);
      for (int i = 0; i < n; i++) diff_fold(dj, wa + (size_t)i * nk, wb + (size_t)i * nk, r0 + i);
    }
    if (control) __atomic_fetch_add(&control[1], u1 - u0, __ATOMIC_RELAXED);
  }
}

int attn_diff(const AttnParams *pa, const AttnParams *pb, const AttnDiff *d) {
  if (pa->heads != 1 || pb->heads != 1 || pa->nq != pb->nq || pa->nk != pb->nk || d->pool_br < 1 || d->pool_bc < 1 ||
      d->pool_cols < 1 || (long long)d->pool_bc * d->pool_cols < pa->nk)
    return EINVAL;
  Job ja, jb;
  if (!prepare(&ja, pa, 0)) {
    pack_free(ja.kt);
    return ENOMEM;
  }
  if (!prepare(&jb, pb, 0)) {
    pack_free(ja.kt);
    pack_free(jb.kt);
    return ENOMEM;
  }
  ja.weights = jb.weights = NULL, ja.output = jb.output = NULL, ja.raw = ja.scaled = jb.raw = jb.scaled = NULL;
  DiffJob dj = {&ja, &jb, d, 0, 0, 0};
  dj.unit = d->pool_br * ((32 + d->pool_br - 1) / d->pool_br);
  dj.units = (pa->nq + dj.unit - 1) / dj.unit;
  Job runner;
  memset(&runner, 0, sizeof runner);
  runner.p = pa;
  runner.runner = diff_work;
  runner.ctx = &dj;
  runner.total = dj.units;
  int threads = pa->threads > 0 ? pa->threads : attn_threads();
  if (threads > dj.units) threads = dj.units;
  run_parallel(&runner, threads);
  pack_free(ja.kt);
  pack_free(jb.kt);
  if (ja.err) return ja.err;
  if (pa->control && __atomic_load_n(&pa->control[0], __ATOMIC_RELAXED)) return -1;
  return 0;
}

void attn_release_cache(void) {
  pack_free(pack_cache.kt);
  pack_free(pack_cache.vp);
  memset(&pack_cache, 0, sizeof pack_cache);
}

size_t attn_non_finite(const float *a, size_t n) {
  /* Branch-free, so the compiler vectorizes it: x − x is 0 for every finite x, NaN for NaN and ±∞. */
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) bad += (a[i] - a[i]) != 0.0f;
  return bad;
}

void attn_widen(const void *src, int src_bytes, const uint32_t *table, uint32_t *dst, size_t n) {
  huge_pages(dst, n * 4);
  if (src_bytes == 2) {
    const uint16_t *s = (const uint16_t *)src;
    if (!table)
      for (size_t i = 0; i < n; i++) dst[i] = (uint32_t)s[i] << 16;
    else
      for (size_t i = 0; i < n; i++) dst[i] = table[s[i]];
  } else {
    const uint8_t *s = (const uint8_t *)src;
    for (size_t i = 0; i < n; i++) dst[i] = table[s[i]];
  }
}
