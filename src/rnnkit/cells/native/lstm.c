/* The LSTM step's elementwise work in one pass per row: the time loop's native kernels.
 *
 * Everything of LSTMCell.step and LSTMCell.step_backward except the matrix products, for
 * float32 rows of contiguous (B, K) arrays; rnnkit/cells/native/__init__.py builds this file
 * with the system C compiler on first use and calls it through ctypes, step by step from the
 * Python loop, or from the C loop of lstm_sequence.c. The equations and the
 * variable names are LSTMCell's (rnnkit/cells/lstm.py), which stays the definition: the tests
 * check these kernels against it.
 *
 * Why: a step of the Python loop issues 15-30 small torch ops, each a pass over memory plus
 * some microseconds of dispatch; on the 2-core development machine they took 285 us of a
 * plain LSTM step and 520 us of a layer-norm step (B=64, H=256), against 380-410 us for its
 * two matrix products. Here each row is read once per direction, the squashing functions are
 * vectorised (squash.h's rational tanh), and OpenMP splits the batch over the cores (sharing
 * torch's OpenMP runtime, already loaded in the process).
 *
 * Flags: PEEPHOLE (w_ci, w_cf, w_co) and LAYER_NORM (gains g_*, shifts b_*; Ba et al. 2016).
 * Gates in torch's order i, f, g, o. Layer-norm statistics are mu and rstd = 1/sqrt(var+eps).
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lstm.h"
#include "squash.h"


/* mean and 1/sqrt(variance + eps) of n floats, as torch.native_layer_norm computes them */
static void row_stats(const float *x, int64_t n, float eps, float *mu, float *rstd)
{
    float sum = 0.0f, sq = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t k = 0; k < n; k++) sum += x[k];
    const float m = sum / (float)n;
#pragma omp simd reduction(+ : sq)
    for (int64_t k = 0; k < n; k++) sq += (x[k] - m) * (x[k] - m);
    *mu = m;
    *rstd = 1.0f / sqrtf(sq / (float)n + eps);
}

void lstm_forward(int64_t B, int64_t H, int flags, float eps, const float *const *in,
                  float *const *out)
{
    const int64_t G = 4 * H;
    const int ln = flags & LAYER_NORM, peep = flags & PEEPHOLE;
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < B; b++) {
        const float *pre = in[IN_PRE] + b * G, *c_prev = in[IN_C_PREV] + b * H;
        float *a = out[OUT_GATES] + b * G;
        float *c = out[OUT_C] + b * H, *tc = out[OUT_TC] + b * H, *h = out[OUT_H] + b * H;
        if (ln) { /* a = LN(x W_ih^T; g_ih) + b_ih + LN(r W_hh^T; g_hh) + b_hh */
            const float *xg = in[IN_XG] + b * G;
            const float *g_ih = in[IN_G_IH], *b_ih = in[IN_B_IH];
            const float *g_hh = in[IN_G_HH], *b_hh = in[IN_B_HH];
            row_stats(pre, G, eps, out[OUT_MU_U] + b, out[OUT_RS_U] + b);
            row_stats(xg, G, eps, out[OUT_MU_X] + b, out[OUT_RS_X] + b);
            const float mu_u = out[OUT_MU_U][b], rs_u = out[OUT_RS_U][b];
            const float mu_x = out[OUT_MU_X][b], rs_x = out[OUT_RS_X][b];
#pragma omp simd
            for (int64_t k = 0; k < G; k++)
                a[k] = (pre[k] - mu_u) * rs_u * g_hh[k] + b_hh[k] + (xg[k] - mu_x) * rs_x * g_ih[k] +
                       b_ih[k];
        } else if (a != pre) {
            memcpy(a, pre, (size_t)G * sizeof(float));
        }
        float *ai = a, *af = a + H, *ag = a + 2 * H, *ao = a + 3 * H;
        if (peep) { /* i and f peek at c_{t-1} */
            const float *w_ci = in[IN_W_CI], *w_cf = in[IN_W_CF];
#pragma omp simd
            for (int64_t k = 0; k < H; k++) {
                ai[k] += w_ci[k] * c_prev[k];
                af[k] += w_cf[k] * c_prev[k];
            }
        }
#pragma omp simd
        for (int64_t k = 0; k < 2 * H; k++) ai[k] = sigmoid_rational(ai[k]); /* i and f */
#pragma omp simd
        for (int64_t k = 0; k < H; k++) ag[k] = tanh_rational(ag[k]);
#pragma omp simd
        for (int64_t k = 0; k < H; k++) c[k] = af[k] * c_prev[k] + ai[k] * ag[k];
        if (peep) { /* o peeks at the new cell */
            const float *w_co = in[IN_W_CO];
#pragma omp simd
            for (int64_t k = 0; k < H; k++) ao[k] += w_co[k] * c[k];
        }
#pragma omp simd
        for (int64_t k = 0; k < H; k++) ao[k] = sigmoid_rational(ao[k]);
        if (ln) { /* tanh(LN(c_t; g_c, b_c)) */
            const float *g_c = in[IN_G_C], *b_c = in[IN_B_C];
            row_stats(c, H, eps, out[OUT_MU_C] + b, out[OUT_RS_C] + b);
            const float mu_c = out[OUT_MU_C][b], rs_c = out[OUT_RS_C][b];
#pragma omp simd
            for (int64_t k = 0; k < H; k++)
                tc[k] = tanh_rational((c[k] - mu_c) * rs_c * g_c[k] + b_c[k]);
        } else {
#pragma omp simd
            for (int64_t k = 0; k < H; k++) tc[k] = tanh_rational(c[k]);
        }
#pragma omp simd
        for (int64_t k = 0; k < H; k++) h[k] = ao[k] * tc[k];
    }
}

/* dx of y = LN(x) from dy (n floats), adding this row's dE/dgain and dE/dshift to dg, db */
static void layer_norm_backward_row(const float *dy, const float *x, float mu, float rstd,
                                    const float *gain, int64_t n, float *dx, float *dg, float *db)
{
    float m1 = 0.0f, m2 = 0.0f;
#pragma omp simd reduction(+ : m1, m2)
    for (int64_t k = 0; k < n; k++) {
        const float dxhat = dy[k] * gain[k], xhat = (x[k] - mu) * rstd;
        m1 += dxhat;
        m2 += dxhat * xhat;
    }
    m1 /= (float)n;
    m2 /= (float)n;
#pragma omp simd
    for (int64_t k = 0; k < n; k++) {
        const float xhat = (x[k] - mu) * rstd;
        dg[k] += dy[k] * xhat;
        db[k] += dy[k];
        dx[k] = rstd * (dy[k] * gain[k] - m1 - xhat * m2);
    }
}

/* dst <- src, or dst += src if add: n floats of a parameter gradient */
static void deliver(float *dst, const float *src, int64_t n, int add)
{
    if (!add) {
        memcpy(dst, src, (size_t)n * sizeof(float));
        return;
    }
#pragma omp simd
    for (int64_t k = 0; k < n; k++) dst[k] += src[k];
}

/* Per-thread partial sums of the parameter gradients, laid out one after another. */
static int64_t sums_size(int64_t H) { return 4 * 4 * H + 2 * H + 3 * H; }

/* Returns 0, or -1 when its scratch memory could not be allocated (nothing is written then). */
int lstm_backward(int64_t B, int64_t H, int flags, float eps, const float *const *in,
                  float *const *out)
{
    (void)eps;
    const int64_t G = 4 * H;
    const int ln = flags & LAYER_NORM, peep = flags & PEEPHOLE;
    const int64_t S = sums_size(H);
    const int threads = omp_get_max_threads();
    /* the total, then each thread's sums and its dcn row, allocated before any work starts */
    float *total = calloc((size_t)(S + threads * (S + H)), sizeof(float));
    if (total == NULL) return -1;
#pragma omp parallel num_threads(threads)
    {
        float *sums = total + S + (int64_t)omp_get_thread_num() * (S + H);
        float *dg_hh = sums, *db_hh = sums + G, *dg_ih = sums + 2 * G, *db_ih = sums + 3 * G;
        float *dg_c = sums + 4 * G, *db_c = dg_c + H;
        float *dw_ci = db_c + H, *dw_cf = dw_ci + H, *dw_co = dw_cf + H;
        float *dcn = sums + S;
#pragma omp for schedule(static)
        for (int64_t b = 0; b < B; b++) {
            const float *dy = in[BI_DY] + b * H, *dh_next = in[BI_DH] + b * H;
            const float *dc_next = in[BI_DC] + b * H, *c_prev = in[BI_C_PREV] + b * H;
            const float *c = in[BI_C] + b * H, *a = in[BI_GATES] + b * G, *tc = in[BI_TC] + b * H;
            const float *i = a, *f = a + H, *g = a + 2 * H, *o = a + 3 * H;
            float *da = ln ? out[BO_DZ] + b * G : out[BO_DA] + b * G; /* da, before layer norm */
            float *da_i = da, *da_f = da + H, *da_g = da + 2 * H, *da_o = da + 3 * H;
            float *dc = out[BO_DC_PREV] + b * H; /* holds dE/dc_t until the end */
#pragma omp simd
            for (int64_t k = 0; k < H; k++) {
                const float dh = dy[k] + dh_next[k];
                dcn[k] = dh * o[k] * (1.0f - tc[k] * tc[k]); /* through h = o tanh(cn) */
                da_o[k] = dh * tc[k] * o[k] * (1.0f - o[k]);
            }
            if (ln) { /* dcn -> dc through cn = LN(c; g_c, b_c) */
                const float mu = in[BI_MU_C][b], rs = in[BI_RS_C][b];
                layer_norm_backward_row(dcn, c, mu, rs, in[BI_G_C], H, dc, dg_c, db_c);
#pragma omp simd
                for (int64_t k = 0; k < H; k++) dc[k] += dc_next[k];
            } else {
#pragma omp simd
                for (int64_t k = 0; k < H; k++) dc[k] = dc_next[k] + dcn[k];
            }
            if (peep) { /* o saw c_t */
                const float *w_co = in[BI_W_CO];
#pragma omp simd
                for (int64_t k = 0; k < H; k++) {
                    dc[k] += da_o[k] * w_co[k];
                    dw_co[k] += da_o[k] * c[k];
                }
            }
#pragma omp simd
            for (int64_t k = 0; k < H; k++) {
                da_i[k] = dc[k] * g[k] * i[k] * (1.0f - i[k]);
                da_f[k] = dc[k] * c_prev[k] * f[k] * (1.0f - f[k]);
                da_g[k] = dc[k] * i[k] * (1.0f - g[k] * g[k]);
                dc[k] *= f[k]; /* now dE/dc_{t-1} */
            }
            if (peep) { /* i and f saw c_{t-1} */
                const float *w_ci = in[BI_W_CI], *w_cf = in[BI_W_CF];
#pragma omp simd
                for (int64_t k = 0; k < H; k++) {
                    dc[k] += da_i[k] * w_ci[k] + da_f[k] * w_cf[k];
                    dw_ci[k] += da_i[k] * c_prev[k];
                    dw_cf[k] += da_f[k] * c_prev[k];
                }
            }
            if (ln) { /* da flows back through both layer norms; BO_DZ held da until here */
                float *dxg = out[BO_DA] + b * G;
                layer_norm_backward_row(da, in[BI_XG] + b * G, in[BI_MU_X][b], in[BI_RS_X][b],
                                        in[BI_G_IH], G, dxg, dg_ih, db_ih);
                /* in place: each element of da is read before it is overwritten */
                layer_norm_backward_row(da, in[BI_U] + b * G, in[BI_MU_U][b], in[BI_RS_U][b],
                                        in[BI_G_HH], G, da, dg_hh, db_hh);
            }
        }
    }
    /* the threads' sums added in thread order, not as each finishes: with static schedules a
       run then repeats its results bit for bit (with three threads or more, the order of
       float additions would otherwise change from run to run) */
    for (int i = 0; i < threads; i++) {
        const float *sums = total + S + (int64_t)i * (S + H);
#pragma omp simd
        for (int64_t k = 0; k < S; k++) total[k] += sums[k];
    }
    const float *dg_hh = total, *db_hh = total + G, *dg_ih = total + 2 * G;
    const float *db_ih = total + 3 * G, *dg_c = total + 4 * G, *db_c = dg_c + H;
    const float *dw_ci = db_c + H, *dw_cf = dw_ci + H, *dw_co = dw_cf + H;
    const int add = flags & ACCUMULATE;
    if (ln) {
        deliver(out[BO_DG_HH], dg_hh, G, add);
        deliver(out[BO_DB_HH], db_hh, G, add);
        deliver(out[BO_DG_C], dg_c, H, add);
        deliver(out[BO_DB_C], db_c, H, add);
        deliver(out[BO_DG_IH], dg_ih, G, add);
        deliver(out[BO_DB_IH], db_ih, G, add);
    }
    if (peep) {
        deliver(out[BO_DW_CI], dw_ci, H, add);
        deliver(out[BO_DW_CF], dw_cf, H, add);
        deliver(out[BO_DW_CO], dw_co, H, add);
    }
    free(total);
    return 0;
}
