/* A whole LSTM sequence, forward and backward: lstm.c's step kernels in a C time loop, with
 * the recurrent products on MKL's packed GEMM (blas.h).
 *
 * The same steps as the Python loop over LSTMCell.step and LSTMCell.step_backward
 * (rnnkit/cells/lstm.py, the definition these are tested against), for every option
 * (PEEPHOLE, LAYER_NORM, a recurrent-dropout mask m):
 *
 *     r_t = h_{t-1} * m                  z_t = r_t W_hh^T
 *     plain:      a_t = xg_t + z_t        (xg_t = x_t W_ih^T + b_ih + b_hh, made before)
 *     layer norm: a_t = LN(xg_t) + b_ih + LN(z_t) + b_hh        (xg_t = x_t W_ih^T)
 *     the gates, c_t and h_t from a_t and c_{t-1} as lstm_forward computes them.
 *
 * Why: the Python loop calls some fifteen torch functions around each step's kernel and
 * product, forward and again backward; at B=64, H=256 that is tens of microseconds a step
 * against the step's own ~100 us product. Here each step is one product and one kernel call.
 *
 * Every array is contiguous float32, row-major; (T, B, K) arrays hold step t at t * B * K.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "lstm.h"

/* Forward inputs, in this order (NULL where an option is off). */
enum {
    SI_XG,                   /* (T, B, 4H) */
    SI_H0, SI_C0, SI_MASK,   /* (B, H); the mask NULL without recurrent dropout */
    SI_W_HH,                 /* (4H, H) */
    SI_G_IH, SI_B_IH, SI_G_HH, SI_B_HH, SI_G_C, SI_B_C, /* layer norm (4H, 4H, 4H, 4H, H, H) */
    SI_W_CI, SI_W_CF, SI_W_CO,                          /* peepholes (H) */
    N_SI
};

/* Forward outputs (with `keep`; without, see step_slot). */
enum {
    SO_HIST,  /* (T + 1, B, H): h_0 (a copy), then every h_t */
    SO_R,     /* (T, B, H): r_t = h_{t-1} * m; NULL without a mask (r_t is then SO_HIST's t) */
    SO_C,     /* (T + 1, B, H): c_0 (a copy), then every c_t */
    SO_GATES, /* (T, B, 4H): i, f, g, o */
    SO_TC,    /* (T, B, H): tanh(c_t), or tanh(LN(c_t)) */
    SO_U,     /* (T, B, 4H) layer norm: z_t */
    SO_STATS, /* (T, 6, B) layer norm: mu and rstd of z_t, xg_t and c_t (lstm_forward's order) */
    SO_OUT,   /* (T, B, H): the outputs, h_t again: the caller's, which it may change */
    N_SO
};

/* Which of an array's steps holds step t: every step is kept for a backward; without one,
   the per-step arrays hold one step and the state arrays (SO_HIST, SO_C) two, written over as
   the loop goes, so that inference over long sequences needs memory for B rows, not T B. */
static inline int64_t step_slot(int keep, int64_t t) { return keep ? t : 0; }
static inline int64_t state_slot(int keep, int64_t t) { return keep ? t : t & 1; }

/* `keep`: whether every step is kept (a backward follows); see step_slot. Returns 0, or 1 if
   the packed weight could not be allocated (nothing useful is written). */
int lstm_sequence_forward(const Blas *blas, int64_t T, int64_t B, int64_t H, int flags,
                          float eps, int keep, const float *const *in, float *const *out)
{
    const int64_t G = 4 * H, bh = B * H, bg = B * G;
    const int ln = flags & LAYER_NORM;
    Packed hh_t = {NULL, 0, 0};
    if (pack(blas, &hh_t, 1, (int)B, (int)G, (int)H, in[SI_W_HH])) return 1;
    float *hist = out[SO_HIST], *c = out[SO_C];
    memcpy(hist, in[SI_H0], (size_t)bh * sizeof(float));
    memcpy(c, in[SI_C0], (size_t)bh * sizeof(float));
    const float *m = in[SI_MASK];
    const float *step_in[N_IN] = {NULL};
    for (int k = 0; k < 6; k++) step_in[IN_G_IH + k] = in[SI_G_IH + k];
    for (int k = 0; k < 3; k++) step_in[IN_W_CI + k] = in[SI_W_CI + k];
    for (int64_t t = 0; t < T; t++) {
        const int64_t s = step_slot(keep, t), now = state_slot(keep, t);
        const int64_t next = state_slot(keep, t + 1);
        const float *xg_t = in[SI_XG] + t * bg, *r_t = hist + now * bh;
        if (m != NULL) { /* r_t = h_{t-1} * m, kept for weight_hh's gradient */
            float *masked = out[SO_R] + s * bh;
#pragma omp simd
            for (int64_t k = 0; k < bh; k++) masked[k] = r_t[k] * m[k];
            r_t = masked;
        }
        float *gates_t = out[SO_GATES] + s * bg;
        if (ln) { /* z_t apart: the kernel normalises it and xg_t into the gates */
            float *u_t = out[SO_U] + s * bg;
            mul(blas, (int)B, r_t, &hh_t, u_t);
            step_in[IN_PRE] = u_t;
            step_in[IN_XG] = xg_t;
        } else { /* a_t = xg_t + z_t in place, squashed there into the gates */
            memcpy(gates_t, xg_t, (size_t)bg * sizeof(float));
            product(blas, (int)B, r_t, H, &hh_t, 1.0f, gates_t, G);
            step_in[IN_PRE] = gates_t;
        }
        step_in[IN_C_PREV] = c + now * bh;
        float *step_out[N_OUT] = {gates_t, c + next * bh, out[SO_TC] + s * bh, hist + next * bh};
        if (ln)
            for (int k = 0; k < 6; k++) step_out[OUT_MU_U + k] = out[SO_STATS] + (s * 6 + k) * B;
        lstm_forward(B, H, flags & (PEEPHOLE | LAYER_NORM), eps, step_in, step_out);
        memcpy(out[SO_OUT] + t * bh, hist + next * bh, (size_t)bh * sizeof(float));
    }
    free(hh_t.data);
    return 0;
}

/* Backward inputs: the forward's inputs and outputs that it reads, and dE/d(outputs). */
enum {
    BSI_DY,                       /* (T, B, H) */
    BSI_MASK, BSI_W_HH,           /* as SI_MASK, SI_W_HH */
    BSI_C, BSI_GATES, BSI_TC,     /* SO_C, SO_GATES, SO_TC */
    BSI_U, BSI_XG, BSI_STATS,     /* layer norm: SO_U, SI_XG, SO_STATS */
    BSI_G_IH, BSI_G_HH, BSI_G_C, BSI_B_C, /* layer norm */
    BSI_W_CI, BSI_W_CF, BSI_W_CO,         /* peepholes */
    N_BSI
};

/* Backward outputs. DH and DC come in holding dE/dh_T and dE/dc_T and leave holding dE/dh_0
   and dE/dc_0; the parameter gradients (zeroed by the caller) are summed over all steps. */
enum {
    BSO_DXG,          /* (T, B, 4H): dE/dxg_t */
    BSO_DZ,           /* (T, B, 4H) layer norm: dE/dz_t (without, dE/dz_t is dE/dxg_t) */
    BSO_DH, BSO_DC,   /* (B, H) */
    BSO_DG_HH, BSO_DB_HH, BSO_DG_C, BSO_DB_C, BSO_DG_IH, BSO_DB_IH, /* layer norm */
    BSO_DW_CI, BSO_DW_CF, BSO_DW_CO,                                /* peepholes */
    N_BSO
};

/* Returns 0, or 1 if out of memory (the outputs are then partly written). */
int lstm_sequence_backward(const Blas *blas, int64_t T, int64_t B, int64_t H, int flags,
                           const float *const *in, float *const *out)
{
    const int64_t G = 4 * H, bh = B * H, bg = B * G;
    const int ln = flags & LAYER_NORM;
    Packed hh = {NULL, 0, 0};
    /* dE/dc_{t-1} cannot be written over dE/dc_t (the layer-norm kernel reads it late), so
       the carried dc alternates between the caller's array and this one. */
    float *spare = malloc((size_t)bh * sizeof(float));
    int failed = spare == NULL || pack(blas, &hh, 0, (int)B, (int)H, (int)G, in[BSI_W_HH]);
    float *dh = out[BSO_DH], *dc = out[BSO_DC], *dc_prev = spare;
    const float *m = in[BSI_MASK];
    const float *step_in[N_BI] = {NULL};
    step_in[BI_DH] = dh;
    for (int k = 0; k < 4; k++) step_in[BI_G_IH + k] = in[BSI_G_IH + k];
    for (int k = 0; k < 3; k++) step_in[BI_W_CI + k] = in[BSI_W_CI + k];
    float *step_out[N_BO] = {NULL};
    for (int k = 0; k < 9; k++) step_out[BO_DG_HH + k] = out[BSO_DG_HH + k];
    for (int64_t t = T - 1; t >= 0 && !failed; t--) {
        step_in[BI_DY] = in[BSI_DY] + t * bh;
        step_in[BI_DC] = dc;
        step_in[BI_C_PREV] = in[BSI_C] + t * bh;
        step_in[BI_C] = in[BSI_C] + (t + 1) * bh;
        step_in[BI_GATES] = in[BSI_GATES] + t * bg;
        step_in[BI_TC] = in[BSI_TC] + t * bh;
        float *dz_t = out[BSO_DXG] + t * bg;
        if (ln) {
            const float *stats = in[BSI_STATS] + t * 6 * B;
            step_in[BI_U] = in[BSI_U] + t * bg;
            step_in[BI_XG] = in[BSI_XG] + t * bg;
            for (int k = 0; k < 6; k++) step_in[BI_MU_U + k] = stats + k * B;
            dz_t = out[BSO_DZ] + t * bg;
        }
        step_out[BO_DA] = out[BSO_DXG] + t * bg;
        step_out[BO_DZ] = ln ? dz_t : NULL;
        step_out[BO_DC_PREV] = dc_prev;
        if (lstm_backward(B, H, flags | ACCUMULATE, 0.0f, step_in, step_out)) {
            failed = 1;
            break;
        }
        mul(blas, (int)B, dz_t, &hh, dh); /* dE/dr_t = dz_t W_hh, read by the step before */
        if (m != NULL) {
#pragma omp simd
            for (int64_t k = 0; k < bh; k++) dh[k] *= m[k];
        }
        float *carried = dc_prev;
        dc_prev = dc;
        dc = carried;
    }
    if (!failed && dc != out[BSO_DC]) memcpy(out[BSO_DC], dc, (size_t)bh * sizeof(float));
    free(hh.data);
    free(spare);
    return failed;
}
