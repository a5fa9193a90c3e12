/* tanh and the logistic sigmoid for the kernels, as one rational function.
 *
 * tanh(x) = x P(x^2) / Q(x^2) on |x| <= 9, with P and Q of degree 4 in x^2, fitted for rnnkit
 * by iteratively reweighted least squares for relative error on [0, 9] (float64 error
 * 6.7e-8); beyond 9, tanh rounds to +-1 in float32. Evaluated in float32 its error against
 * tanh in float64 is below 4e-7 (about 7 ulp near 1, against 1 ulp for glibc's vectorised
 * tanhf; tests/test_native_squash.py), and NaN stays NaN: the clamps are comparisons, false
 * for NaN (the library is built with -fno-finite-math-only for them).
 *
 * Why: ten multiply-adds and a division vectorise to a few cycles per 16 floats, where
 * libmvec's tanhf took 12.3 us per 16,384 floats on one core of the Intel machine, against
 * 5.8 us for a function of this form; an LSTM step squashes five (B, H) arrays, a Jordan step
 * two, and each is a pass the step waits for.
 */
#ifndef RNNKIT_SQUASH_H
#define RNNKIT_SQUASH_H

static inline float tanh_rational(float a)
{
    const float x = a > 9.0f ? 9.0f : (a < -9.0f ? -9.0f : a);
    const float s = x * x;
    const float p =
        (((1.383542880e-08f * s + 2.096375465e-05f) * s + 3.517472418e-03f) * s +
         1.339956075e-01f) * s + 1.0f;
    const float q =
        (((7.975609719e-07f * s + 3.321192053e-04f) * s + 2.596057579e-02f) * s +
         4.673288465e-01f) * s + 1.0f;
    const float t = x * p / q;
    return t > 1.0f ? 1.0f : (t < -1.0f ? -1.0f : t); /* rounding may pass 1 by an ulp */
}

/* sigma(a) = (1 + tanh(a / 2)) / 2: +-inf give 1 and 0, and NaN stays NaN (1 / (1 + e^-a)
   under -ffast-math turned a < -88, where e^-a overflows, into NaN) */
static inline float sigmoid_rational(float a) { return 0.5f * tanh_rational(0.5f * a) + 0.5f; }

#endif
