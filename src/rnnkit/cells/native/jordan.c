/* A whole sequence of the Jordan cell, forward and backward, with its products on MKL.
 *
 * JordanCell.step and JordanCell.step_backward (rnnkit/cells/jordan.py) for feedback="hidden",
 * the definition these functions are tested against:
 *
 *     r_t = y_{t-1} * m               (m: the recurrent-dropout mask, or none)
 *     h_t = phi(xg_t + r_t W_oh^T)    (xg_t = x_t W_ih^T + b_ih, made before the loop)
 *     y_t = psi(h_t W_hy^T + b_hy)
 *
 * Why: a Jordan step is two small products, (B, O) x (O, H) and (B, H) x (H, O), each a few
 * tens of microseconds, and the Python loop around them (some ten torch calls a step forward
 * and again backward, each some microseconds of dispatch) cost about as much again. Here the
 * loop runs in C, the products through MKL's packed GEMM (blas.h), the squashing in place on
 * the products' own rows, and every activation is written once, into the (T, B, K) arrays the
 * weight gradients read.
 * Every array is contiguous float32, row-major.
 *
 * Activations: phi tanh or relu (PHI_RELU), psi tanh, identity or sigmoid (PSI_*).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"

enum { PHI_RELU = 1, PSI_IDENTITY = 2, PSI_SIGMOID = 4 };

/* Below this many floats one core is faster than two (as squash.c). */
enum { PARALLEL_FROM = 16384 };

static inline float sigmoid(float a) { return 0.5f * tanhf(0.5f * a) + 0.5f; }

/* h <- phi(h + xg), n floats */
static void squash_hidden(int flags, int64_t n, const float *xg, float *h)
{
    if (flags & PHI_RELU) {
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_FROM)
        for (int64_t k = 0; k < n; k++) h[k] = fmaxf(h[k] + xg[k], 0.0f);
    } else {
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_FROM)
        for (int64_t k = 0; k < n; k++) h[k] = tanhf(h[k] + xg[k]);
    }
}

/* y <- psi(y + b) row by row, y (B, O) */
static void squash_output(int flags, int64_t B, int64_t O, const float *b, float *y)
{
#pragma omp parallel for schedule(static) if (B * O >= PARALLEL_FROM)
    for (int64_t i = 0; i < B; i++) {
        float *row = y + i * O;
        if (flags & PSI_IDENTITY) {
#pragma omp simd
            for (int64_t k = 0; k < O; k++) row[k] += b[k];
        } else if (flags & PSI_SIGMOID) {
#pragma omp simd
            for (int64_t k = 0; k < O; k++) row[k] = sigmoid(row[k] + b[k]);
        } else {
#pragma omp simd
            for (int64_t k = 0; k < O; k++) row[k] = tanhf(row[k] + b[k]);
        }
    }
}

/* r <- y * m (m NULL: a copy), n floats */
static void recurrent_input(int64_t n, const float *y, const float *m, float *r)
{
    if (m == NULL) {
        memcpy(r, y, (size_t)n * sizeof(float));
        return;
    }
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_FROM)
    for (int64_t k = 0; k < n; k++) r[k] = y[k] * m[k];
}

/* Forward over T steps. xg (T, B, H); y0, m (B, O) (m may be NULL); w_oh (H, O); w_hy (O, H);
   b_hy (O). Writes r (T, B, O): each step's recurrent input; h (T, B, H); y (T, B, O); and
   out (T, B, O), a copy of y made while each row is in cache, which the caller hands out (the
   backward reads y, which the caller's in-place changes to out must not reach).
   Returns 0, or 1 if the packed weights could not be allocated. */
int jordan_forward(const Blas *blas, int flags, int64_t T, int64_t B, int64_t H, int64_t O,
                   const float *xg, const float *y0, const float *m, const float *w_oh,
                   const float *w_hy, const float *b_hy, float *r, float *h, float *y, float *out)
{
    const int64_t bh = B * H, bo = B * O;
    Packed oh_t = {NULL, 0, 0}, hy_t = {NULL, 0, 0};
    int failed = pack(blas, &oh_t, 1, (int)B, (int)H, (int)O, w_oh) ||
                 pack(blas, &hy_t, 1, (int)B, (int)O, (int)H, w_hy);
    for (int64_t t = 0; t < T && !failed; t++) {
        float *r_t = r + t * bo, *h_t = h + t * bh, *y_t = y + t * bo;
        recurrent_input(bo, t == 0 ? y0 : y_t - bo, m, r_t);
        mul(blas, (int)B, r_t, &oh_t, h_t); /* r_t W_oh^T */
        squash_hidden(flags, bh, xg + t * bh, h_t);
        mul(blas, (int)B, h_t, &hy_t, y_t); /* h_t W_hy^T */
        squash_output(flags, B, O, b_hy, y_t);
        memcpy(out + t * bo, y_t, (size_t)bo * sizeof(float));
    }
    free(oh_t.data);
    free(hy_t.data);
    return failed;
}

/* do <- (dy + dr) psi'(y), written with psi's output y, n floats */
static void output_grad(int flags, int64_t n, const float *dy, const float *dr, const float *y,
                        float *d_o)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_FROM)
    for (int64_t k = 0; k < n; k++) {
        const float g = dy[k] + dr[k];
        d_o[k] = (flags & PSI_IDENTITY)  ? g
                 : (flags & PSI_SIGMOID) ? g * y[k] * (1.0f - y[k])
                                         : g * (1.0f - y[k] * y[k]);
    }
}

/* da <- da phi'(h), written with phi's output h, n floats */
static void hidden_grad(int flags, int64_t n, const float *h, float *da)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_FROM)
    for (int64_t k = 0; k < n; k++)
        da[k] = (flags & PHI_RELU) ? (h[k] > 0.0f ? da[k] : 0.0f) : da[k] * (1.0f - h[k] * h[k]);
}

/* Backward over T steps, from dE/dy (T, B, O) and dE/dy_T (B, O) (dr, overwritten: it carries
   dE/dy_t back through time and ends as dE/dy_0). h, y: the forward's. Writes do (T, B, O),
   dE/d(h_t W_hy^T + b_hy), and da (T, B, H), dE/dxg_t. Returns 0, or 1 if out of memory. */
int jordan_backward(const Blas *blas, int flags, int64_t T, int64_t B, int64_t H, int64_t O,
                    const float *dy, const float *m, const float *w_oh, const float *w_hy,
                    const float *h, const float *y, float *dr, float *d_o, float *da)
{
    const int64_t bh = B * H, bo = B * O;
    Packed hy = {NULL, 0, 0}, oh = {NULL, 0, 0};
    int failed = pack(blas, &hy, 0, (int)B, (int)H, (int)O, w_hy) ||
                 pack(blas, &oh, 0, (int)B, (int)O, (int)H, w_oh);
    for (int64_t t = T - 1; t >= 0 && !failed; t--) {
        float *do_t = d_o + t * bo, *da_t = da + t * bh;
        output_grad(flags, bo, dy + t * bo, dr, y + t * bo, do_t);
        mul(blas, (int)B, do_t, &hy, da_t); /* dE/dh_t = do_t W_hy */
        hidden_grad(flags, bh, h + t * bh, da_t);
        mul(blas, (int)B, da_t, &oh, dr); /* dE/dr_t = da_t W_oh */
        if (m != NULL) {
#pragma omp parallel for simd schedule(static) if (bo >= PARALLEL_FROM)
            for (int64_t k = 0; k < bo; k++) dr[k] *= m[k];
        }
    }
    free(hy.data);
    free(oh.data);
    return failed;
}
