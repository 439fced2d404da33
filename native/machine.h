/* The machine's limits, measured (see machine.c): for the bench's physical floor. */
#ifndef ATTENTION_MACHINE_H
#define ATTENTION_MACHINE_H
#include <stddef.h>

/** Peak float32 GFLOP/s (2 per multiply-add) over `threads` threads (0 = every core); lanes of the vectors used. */
double machine_peak_gflops(int threads, int *lanes);
/** Best GB/s writing (memset) a buffer of `bytes`, and copying one (read + write counted). */
double machine_write_gbps(size_t bytes, int reps);
double machine_copy_gbps(size_t bytes, int reps);

#endif
