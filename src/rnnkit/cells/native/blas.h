/* MKL's packed GEMM for the whole-sequence loops (jordan.c, lstm_sequence.c).
 *
 * cblas_sgemm_pack_get_size, cblas_sgemm_pack and cblas_sgemm_compute, row-major: each step
 * multiplies by the same recurrent weights, so each is packed once per sequence into MKL's
 * internal layout, which spares sgemm re-packing it at every step. On the Intel machine a
 * (64, 256) x (256, 256) product took 29 us packed against 32 us for torch.mm, and
 * (32, 650) x (650, 2600) 350 us against 394-522 us. The caller hands over the function
 * pointers (libtorch_cpu exports them; rnnkit.cells.gemm.mkl_packed finds them).
 */
#ifndef RNNKIT_BLAS_H
#define RNNKIT_BLAS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef size_t (*pack_size_fn)(int identifier, int m, int n, int k);
typedef void (*pack_fn)(int layout, int identifier, int trans, int m, int n, int k, float alpha,
                        const float *src, int ld, float *dest);
typedef void (*compute_fn)(int layout, int transa, int transb, int m, int n, int k,
                           const float *a, int lda, const float *b, int ldb, float beta, float *c,
                           int ldc);
typedef struct {
    pack_size_fn pack_size;
    pack_fn pack;
    compute_fn compute;
} Blas;

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112, PACKED = 151, B_MATRIX = 162 };

/* A weight w, packed as the right operand of products with `rows` rows: of a w^T (transpose)
   or of a w. w is (cols, inner) for a w^T and (inner, cols) for a w. NULL if out of memory. */
typedef struct {
    float *data;
    int cols, inner;
} Packed;

static inline int pack(const Blas *blas, Packed *p, int transpose, int rows, int cols, int inner,
                       const float *w)
{
    p->cols = cols;
    p->inner = inner;
    p->data = malloc(blas->pack_size(B_MATRIX, rows, cols, inner));
    if (p->data == NULL) return 1;
    blas->pack(ROW_MAJOR, B_MATRIX, transpose ? TRANS : NO_TRANS, rows, cols, inner, 1.0f, w,
               transpose ? inner : cols, p->data);
    return 0;
}

/* c (rows, p->cols) = a (rows, p->inner) times the packed weight, plus beta c; lda and ldc are
   the distances between rows of a and of c (a step's rows in a batch-first (B, T, K) array are
   T * K apart) */
static inline void product(const Blas *blas, int rows, const float *a, int64_t lda,
                           const Packed *p, float beta, float *c, int64_t ldc)
{
    blas->compute(ROW_MAJOR, NO_TRANS, PACKED, rows, p->cols, p->inner, a, (int)lda, p->data,
                  p->cols, beta, c, (int)ldc);
}

/* c (rows, p->cols) = a (rows, p->inner) times the packed weight, both contiguous */
static inline void mul(const Blas *blas, int rows, const float *a, const Packed *p, float *c)
{
    product(blas, rows, a, p->inner, p, 0.0f, c, p->cols);
}

#endif
