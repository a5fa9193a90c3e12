/* The LSTM step kernels of lstm.c: their flags, and the order of their pointer arrays. */
#ifndef RNNKIT_LSTM_H
#define RNNKIT_LSTM_H

#include <stdint.h>

/* ACCUMULATE (lstm_backward): add this step's parameter sums to the outputs instead of
   writing them, as a whole-sequence loop wants (lstm_sequence.c). */
enum { PEEPHOLE = 1, LAYER_NORM = 2, ACCUMULATE = 4 };

/* Forward inputs, in this order (NULL where a flag is off). */
enum {
    IN_PRE,    /* (B, 4H): plain, x W_ih^T + b + r W_hh^T (overwritten by the gates);
                           layer norm, u = r W_hh^T */
    IN_XG,     /* (B, 4H) layer norm: this step's row of x W_ih^T */
    IN_C_PREV, /* (B, H) */
    IN_G_IH, IN_B_IH, IN_G_HH, IN_B_HH, IN_G_C, IN_B_C, /* (4H, 4H, 4H, 4H, H, H) */
    IN_W_CI, IN_W_CF, IN_W_CO,                          /* (H) each */
    N_IN
};

/* Forward outputs. */
enum {
    OUT_GATES, /* (B, 4H): i, f, g, o after squashing (may be IN_PRE itself) */
    OUT_C, OUT_TC, OUT_H,                  /* (B, H): c_t, tanh(c_t or LN(c_t)), h_t */
    OUT_MU_U, OUT_RS_U, OUT_MU_X, OUT_RS_X, OUT_MU_C, OUT_RS_C, /* (B) layer-norm statistics */
    N_OUT
};

/* Backward inputs: the forward's cache, and the gradients arriving at step t. */
enum {
    BI_DY, BI_DH, BI_DC,               /* (B, H): dE/dy_t from above, dE/dh_t, dE/dc_t from t+1 */
    BI_C_PREV, BI_C, BI_GATES, BI_TC, /* the forward's (B, H), (B, H), (B, 4H), (B, H) */
    BI_U, BI_XG,                      /* (B, 4H) layer norm: r W_hh^T and x W_ih^T rows */
    BI_MU_U, BI_RS_U, BI_MU_X, BI_RS_X, BI_MU_C, BI_RS_C, /* (B) */
    BI_G_IH, BI_G_HH, BI_G_C, BI_B_C,                    /* layer-norm gains and the c shift */
    BI_W_CI, BI_W_CF, BI_W_CO,                           /* (H) peepholes */
    N_BI
};

/* Backward outputs; the parameter gradients are this step's sums over the batch. */
enum {
    BO_DA,     /* (B, 4H): dE/d(pre-activations); with layer norm, dE/dxg (the x W_ih^T row) */
    BO_DZ,     /* (B, 4H) layer norm: dE/d(r W_hh^T) */
    BO_DC_PREV, /* (B, H) */
    BO_DG_HH, BO_DB_HH, BO_DG_C, BO_DB_C, BO_DG_IH, BO_DB_IH, /* (4H, 4H, H, H, 4H, 4H) */
    BO_DW_CI, BO_DW_CF, BO_DW_CO,                             /* (H) */
    N_BO
};

void lstm_forward(int64_t B, int64_t H, int flags, float eps, const float *const *in,
                  float *const *out);
int lstm_backward(int64_t B, int64_t H, int flags, float eps, const float *const *in,
                  float *const *out);

#endif
