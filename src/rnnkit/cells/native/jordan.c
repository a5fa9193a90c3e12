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
 *
 * Every array is float32 with contiguous rows. The (T, B, K) arrays of the sequence (xg, r, h,
 * y and their gradients) are laid out as the input projection xg was made: time-major, or
 * batch-first when the loop projected a batch-first input in its own order (then neither x
 * nor its gradient is copied into time order and back). A `Steps` names the layout.
 *
 * Activations: phi tanh or relu (PHI_RELU), psi tanh, identity or sigmoid (PSI_*).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "squash.h"

enum { PHI_RELU = 1, PSI_IDENTITY = 2, PSI_SIGMOID = 4 };

/* Below this many floats one core is faster than two (as squash.c). */
enum { PARALLEL_FROM = 16384 };


/* Where step t's row b of a (T, B, K) array lies: at data + t * st + b * sb. */
typedef struct {
    int64_t st, sb;
} Steps;

static Steps steps_of(int batch_first, int64_t T, int64_t B, int64_t K)
{
    return batch_first ? (Steps){K, T * K} : (Steps){B * K, K};
}

/* h <- phi(h + xg), B rows of H; xg's rows ld_x apart, h's ld_h */
static void squash_hidden(int flags, int64_t B, int64_t H, const float *xg, int64_t ld_x,
                          float *h, int64_t ld_h)
{
#pragma omp parallel for schedule(static) if (B * H >= PARALLEL_FROM)
    for (int64_t b = 0; b < B; b++) {
        const float *x = xg + b * ld_x;
        float *row = h + b * ld_h;
        if (flags & PHI_RELU) {
#pragma omp simd
            for (int64_t k = 0; k < H; k++) row[k] = fmaxf(row[k] + x[k], 0.0f);
        } else {
#pragma omp simd
            for (int64_t k = 0; k < H; k++) row[k] = tanh_rational(row[k] + x[k]);
        }
    }
}

/* y <- psi(y + b) row by row, B rows of O, `ld` apart; each row copied to out (contiguous) */
static void squash_output(int flags, int64_t B, int64_t O, int64_t ld, const float *b, float *y,
                          float *out)
{
#pragma omp parallel for schedule(static) if (B * O >= PARALLEL_FROM)
    for (int64_t i = 0; i < B; i++) {
        float *row = y + i * ld;
        if (flags & PSI_IDENTITY) {
#pragma omp simd
            for (int64_t k = 0; k < O; k++) row[k] += b[k];
        } else if (flags & PSI_SIGMOID) {
#pragma omp simd
            for (int64_t k = 0; k < O; k++) row[k] = sigmoid_rational(row[k] + b[k]);
        } else {
#pragma omp simd
            for (int64_t k = 0; k < O; k++) row[k] = tanh_rational(row[k] + b[k]);
        }
        memcpy(out + i * O, row, (size_t)O * sizeof(float));
    }
}

/* r <- y * m (m NULL: a copy), B rows of O; y's rows ld_y apart, r's ld_r */
static void recurrent_input(int64_t B, int64_t O, const float *y, int64_t ld_y, const float *m,
                            float *r, int64_t ld_r)
{
#pragma omp parallel for schedule(static) if (B * O >= PARALLEL_FROM)
    for (int64_t b = 0; b < B; b++) {
        const float *src = y + b * ld_y;
        float *dst = r + b * ld_r;
        if (m == NULL) {
            memcpy(dst, src, (size_t)O * sizeof(float));
        } else {
            const float *mask = m + b * O;
#pragma omp simd
            for (int64_t k = 0; k < O; k++) dst[k] = src[k] * mask[k];
        }
    }
}

/* Forward over T steps. xg (T, B, H); y0, m (B, O) contiguous (m may be NULL); w_oh (H, O);
   w_hy (O, H); b_hy (O). Writes r (T, B, O): each step's recurrent input; h (T, B, H);
   y (T, B, O); and out (T, B, O) time-major contiguous, a copy of y made while each row is in
   cache, which the caller hands out (the backward reads y, which the caller's in-place changes
   to out must not reach). xg, r, h, y: batch-first if batch_first, else time-major.
   Without `keep` (inference: no backward follows) r and h hold one step, time-major (B, K),
   and y two, written over as the loop goes: memory for B rows, not T B.
   Returns 0, or 1 if the packed weights could not be allocated. */
int jordan_forward(const Blas *blas, int flags, int64_t T, int64_t B, int64_t H, int64_t O,
                   int batch_first, int keep, const float *xg, const float *y0, const float *m,
                   const float *w_oh, const float *w_hy, const float *b_hy, float *r, float *h,
                   float *y, float *out)
{
    const Steps sx = steps_of(batch_first, T, B, H);
    const Steps sh = steps_of(batch_first && keep, T, B, H);
    const Steps so = steps_of(batch_first && keep, T, B, O);
    Packed oh_t = {NULL, 0, 0}, hy_t = {NULL, 0, 0};
    int failed = pack(blas, &oh_t, 1, (int)B, (int)H, (int)O, w_oh) ||
                 pack(blas, &hy_t, 1, (int)B, (int)O, (int)H, w_hy);
    for (int64_t t = 0; t < T && !failed; t++) {
        const int64_t s = keep ? t : 0, now = keep ? t : t & 1, before = keep ? t - 1 : !now;
        float *r_t = r + s * so.st, *h_t = h + s * sh.st, *y_t = y + now * so.st;
        if (t == 0)
            recurrent_input(B, O, y0, O, m, r_t, so.sb);
        else
            recurrent_input(B, O, y + before * so.st, so.sb, m, r_t, so.sb);
        product(blas, (int)B, r_t, so.sb, &oh_t, 0.0f, h_t, sh.sb); /* r_t W_oh^T */
        squash_hidden(flags, B, H, xg + t * sx.st, sx.sb, h_t, sh.sb);
        product(blas, (int)B, h_t, sh.sb, &hy_t, 0.0f, y_t, so.sb); /* h_t W_hy^T */
        squash_output(flags, B, O, so.sb, b_hy, y_t, out + t * B * O);
    }
    free(oh_t.data);
    free(hy_t.data);
    return failed;
}

/* do <- (dy + dr) psi'(y), written with psi's output y: B rows of O (dr contiguous) */
static void output_grad(int flags, int64_t B, int64_t O, const float *dy, int64_t ld_dy,
                        const float *dr, const float *y, float *d_o, int64_t ld)
{
#pragma omp parallel for schedule(static) if (B * O >= PARALLEL_FROM)
    for (int64_t b = 0; b < B; b++) {
        const float *g_in = dy + b * ld_dy, *carried = dr + b * O, *out = y + b * ld;
        float *d = d_o + b * ld;
#pragma omp simd
        for (int64_t k = 0; k < O; k++) {
            const float g = g_in[k] + carried[k];
            d[k] = (flags & PSI_IDENTITY)  ? g
                   : (flags & PSI_SIGMOID) ? g * out[k] * (1.0f - out[k])
                                           : g * (1.0f - out[k] * out[k]);
        }
    }
}

/* da <- da phi'(h), written with phi's output h: B rows of H, `ld` apart */
static void hidden_grad(int flags, int64_t B, int64_t H, int64_t ld, const float *h, float *da)
{
#pragma omp parallel for schedule(static) if (B * H >= PARALLEL_FROM)
    for (int64_t b = 0; b < B; b++) {
        const float *out = h + b * ld;
        float *d = da + b * ld;
#pragma omp simd
        for (int64_t k = 0; k < H; k++)
            d[k] = (flags & PHI_RELU) ? (out[k] > 0.0f ? d[k] : 0.0f)
                                      : d[k] * (1.0f - out[k] * out[k]);
    }
}

/* Backward over T steps, from dE/dy (T, B, O), whose step t's row b lies at
   dy + t * dy_st + b * dy_sb, and dE/dy_T (B, O) (dr, contiguous and overwritten: it carries
   dE/dy_t back through time and ends as dE/dy_0). h, y: the forward's, in its layout. Writes
   do (T, B, O), dE/d(h_t W_hy^T + b_hy), and da (T, B, H), dE/dxg_t, in that layout too.
   Returns 0, or 1 if out of memory. */
int jordan_backward(const Blas *blas, int flags, int64_t T, int64_t B, int64_t H, int64_t O,
                    int batch_first, const float *dy, int64_t dy_st, int64_t dy_sb,
                    const float *m, const float *w_oh, const float *w_hy, const float *h,
                    const float *y, float *dr, float *d_o, float *da)
{
    const Steps sh = steps_of(batch_first, T, B, H), so = steps_of(batch_first, T, B, O);
    const int64_t bo = B * O;
    Packed hy = {NULL, 0, 0}, oh = {NULL, 0, 0};
    int failed = pack(blas, &hy, 0, (int)B, (int)H, (int)O, w_hy) ||
                 pack(blas, &oh, 0, (int)B, (int)O, (int)H, w_oh);
    for (int64_t t = T - 1; t >= 0 && !failed; t--) {
        float *do_t = d_o + t * so.st, *da_t = da + t * sh.st;
        output_grad(flags, B, O, dy + t * dy_st, dy_sb, dr, y + t * so.st, do_t, so.sb);
        product(blas, (int)B, do_t, so.sb, &hy, 0.0f, da_t, sh.sb); /* dE/dh_t = do_t W_hy */
        hidden_grad(flags, B, H, sh.sb, h + t * sh.st, da_t);
        product(blas, (int)B, da_t, sh.sb, &oh, 0.0f, dr, O); /* dE/dr_t = da_t W_oh */
        if (m != NULL) {
#pragma omp parallel for simd schedule(static) if (bo >= PARALLEL_FROM)
            for (int64_t k = 0; k < bo; k++) dr[k] *= m[k];
        }
    }
    free(hy.data);
    free(oh.data);
    return failed;
}
