/*
 * What this machine can do at most, for the physical floor the bench and README compare the kernel with:
 * the peak float32 multiply-add rate (independent FMA chains in the widest vectors the CPU has, on every core)
 * and the memory bandwidth (writing and copying buffers much larger than the caches).
 */
#define _GNU_SOURCE
#include "machine.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attention.h"

/* This thread's CPU time: the machine is shared, and wall time would measure the other processes too. */
static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* 16 independent accumulator chains: enough to cover 4-cycle FMA latency on two FMA ports. */
#define CHAINS(T, W)                                                                              \
  T acc[16];                                                                                      \
  for (int i = 0; i < 16; i++) acc[i] = (T){0} + (float)(i + 1) * 1e-3f;                          \
  const T a = (T){0} + 0.999999f, b = (T){0} + 1e-7f;                                             \
  for (long it = 0; it < iters; it++)                                                             \
    for (int i = 0; i < 16; i++) acc[i] = acc[i] * a + b;                                         \
  float s = 0;                                                                                    \
  for (int i = 0; i < 16; i++) s += acc[i][0];                                                    \
  return s + 0 * (W);

#if defined(__x86_64__)
typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));
__attribute__((target("avx512f"))) static float fma512(long iters) { CHAINS(v16, 16) }
__attribute__((target("avx2,fma"))) static float fma256(long iters) { CHAINS(v8, 8) }
#endif
typedef float v4 __attribute__((vector_size(16)));
static float fma128(long iters) { CHAINS(v4, 4) }

typedef struct { long iters; int lanes; float sink; double secs; } PeakArg;

static void *peak_thread(void *p) {
  PeakArg *a = p;
  const double t0 = now_s();
#if defined(__x86_64__)
  if (a->lanes == 16) a->sink = fma512(a->iters);
  else if (a->lanes == 8) a->sink = fma256(a->iters);
  else
#endif
    a->sink = fma128(a->iters);
  a->secs = now_s() - t0;
  return NULL;
}

double machine_peak_gflops(int threads, int *lanes_out) {
  int lanes = 4;
#if defined(__x86_64__)
  if (attn_supports("avx512")) lanes = 16;
  else if (attn_supports("avx2")) lanes = 8;
#endif
  if (threads < 1) threads = attn_threads();
  if (threads > 64) threads = 64;
  const long iters = 20 * 1000 * 1000;
  pthread_t t[64];
  PeakArg args[64];
  for (int i = 0; i < threads; i++) {
    args[i] = (PeakArg){iters, lanes, 0, 0};
    if (pthread_create(&t[i], NULL, peak_thread, &args[i]) != 0) threads = i;
  }
  double gflops = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    gflops += (double)iters * 16 * lanes * 2 / args[i].secs / 1e9; /* per core, summed over the cores */
  }
  if (lanes_out) *lanes_out = lanes;
  return gflops;
}

double machine_write_gbps(size_t bytes, int reps) {
  char *buf = malloc(bytes);
  if (!buf) return 0;
  memset(buf, 1, bytes); /* fault every page in first: the floor counts bandwidth, not page faults */
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    const double t0 = now_s();
    memset(buf, r, bytes);
    const double dt = now_s() - t0;
    if (dt < best) best = dt;
  }
  volatile char keep = buf[bytes / 2];
  (void)keep;
  free(buf);
  return (double)bytes / best / 1e9;
}

double machine_copy_gbps(size_t bytes, int reps) {
  char *a = malloc(bytes), *b = malloc(bytes);
  if (!a || !b) {
    free(a);
    free(b);
    return 0;
  }
  memset(a, 1, bytes);
  memset(b, 2, bytes);
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    const double t0 = now_s();
    memcpy(b, a, bytes);
    const double dt = now_s() - t0;
    if (dt < best) best = dt;
  }
  volatile char keep = b[bytes / 2];
  (void)keep;
  free(a);
  free(b);
  return 2.0 * (double)bytes / best / 1e9; /* bytes read + bytes written */
}
