/* Squashing functions in place, for the time loop's cells that have no kernel of their own.
 *
 * The loop's Elman, GRU and Jordan steps squash a fresh (B, H) product at every step. torch's
 * CPU tanh took 30 us on a (64, 256) float32 array (its 2 sigmoid(2x) - 1 form 21 us, and 30-50
 * us inside the loop, where each allocates a new array) against 7 us here, ctypes included;
 * it was a quarter of a Jordan step's forward. One pass, vectorised by the compiler (the
 * rational tanh of squash.h), split over the cores by OpenMP once the array is large enough to
 * repay waking the second thread.
 */
#include <math.h>
#include <stdint.h>

#include "squash.h"

/* Below this many floats one core is faster than two. */
enum { PARALLEL_FROM = 16384 };

/* x <- tanh(x), n floats. */
void squash_tanh(int64_t n, float *x)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_FROM)
    for (int64_t k = 0; k < n; k++) x[k] = tanh_rational(x[k]);
}
