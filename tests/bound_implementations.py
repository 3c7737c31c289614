"""Users' implementations of catalogue bounds: correct ones and deliberately wrong ones.

The wrong ones carry the bugs the regression harness exists to catch: a misplaced
parenthesis, a wrong constant, log2 for ln, and a bisection that returns the midpoint of
its final bracket instead of the end the bound needs.
"""

from __future__ import annotations

import math

import mpmath


def lemma_s1(m, n, p, R, eps):
    """schatten_ball.lemma_s1, careful float64: the truncation rank is capped in log space."""
    if eps >= 2 * R:
        return 0.0
    cap = min(m, n)
    exponent = 2 * p / (2 - p)
    log_term = exponent * math.log(2 * R / eps)
    k = cap if log_term > math.log(cap + 1) else min(math.ceil(math.exp(log_term)) - 1, cap)
    return (m + n + 1) * k * math.log(18 * R / eps)


def lemma_s1_log2(m, n, p, R, eps):
    """Bug: log2 where the statement has the natural log."""
    return lemma_s1(m, n, p, R, eps) / math.log(18 * R / eps) * math.log2(18 * R / eps) if eps < 2 * R else 0.0


def _truncation_rank_by_bisection(p, R, eps, cap, return_midpoint):
    """Smallest k with R (k + 1)^(-(1/p - 1/2)) <= eps / 2 (Lemma S1 step (b)), by bisection."""
    def small_enough(k):
        return R * (k + 1) ** (-(1 / p - 0.5)) <= eps / 2

    low, high = 0, cap
    if small_enough(low):
        return 0
    if not small_enough(high):
        return cap
    while high - low > 1:  # invariant: not small_enough(low), small_enough(high)
        middle = (low + high) // 2
        if small_enough(middle):
            high = middle
        else:
            low = middle
    return (low + high) // 2 if return_midpoint else high


def lemma_s1_bisection(m, n, p, R, eps, return_midpoint=False):
    """Lemma S1 with k* found by bisection; ``return_midpoint`` is the bug."""
    if eps >= 2 * R:
        return 0.0
    k = _truncation_rank_by_bisection(p, R, eps, min(m, n), return_midpoint)
    return (m + n + 1) * k * math.log(18 * R / eps)


def lemma_s1_bisection_midpoint(m, n, p, R, eps):
    return lemma_s1_bisection(m, n, p, R, eps, return_midpoint=True)


def prop3_6_explicit(d, N, delta, M):
    """chen2024.prop3_6_explicit, float64."""
    return M**2 * math.sqrt(32 / N * (d * math.log(32 * math.e * N) + math.log(4 * math.e * (d + 1) / delta)))


def prop3_6_explicit_parenthesis(d, N, delta, M):
    """Bug: ln(4e(d+1))/delta instead of ln(4e(d+1)/delta) (the pacbb McAllester slip)."""
    return M**2 * math.sqrt(32 / N * (d * math.log(32 * math.e * N) + math.log(4 * math.e * (d + 1)) / delta))


def prop3_6_explicit_mpmath(d, N, delta, M):
    """The same in mpmath (the harness passes mpf values; integer parameters stay ints)."""
    return M**2 * mpmath.sqrt(mpmath.mpf(32) / N * (d * mpmath.log(32 * mpmath.e * N) + mpmath.log(4 * mpmath.e * (d + 1) / delta)))


def thm2_6(B, eps, mu):
    """chen2024.thm2_6, variant 2B."""
    return 2 * B * eps / mu


def thm2_6_wrong_constant(B, eps, mu):
    """Bug: (2B - 1) eps / mu is Proposition P1's constant, not Theorem 2.6's."""
    return (2 * B - 1) * eps / mu


def _binary_kl(q, p):
    first = q * math.log(q / p) if q > 0 else 0.0
    second = (1 - q) * math.log((1 - q) / (1 - p)) if q < 1 else 0.0
    return first + second


def _kl_inverse_by_bisection(q, c, tolerance, return_midpoint):
    """sup{p in [q, 1] : kl(q || p) <= c} by bisection on [q, 1] down to ``tolerance``."""
    if q >= 1 or c <= 0:
        return q if c <= 0 else 1.0
    low, high = q, 1.0
    while high - low > tolerance:
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if _binary_kl(q, middle) > c:
            high = middle
        else:
            low = middle
    return (low + high) / 2 if return_midpoint else high


def occam_kl(n, errors, bits, delta):
    """langford2005.occam_kl, float64: bisection to the float resolution, returning the upper end."""
    c = (bits * math.log(2) + math.log(1 / delta)) / n
    return _kl_inverse_by_bisection(errors / n, c, 0.0, return_midpoint=False)


def occam_kl_midpoint(n, errors, bits, delta):
    """Bug: bisection to a tolerance of 1e-6, returning the midpoint of the final bracket, as
    published PAC-Bayes code does; the midpoint may lie below the root, and then is no bound."""
    c = (bits * math.log(2) + math.log(1 / delta)) / n
    return _kl_inverse_by_bisection(errors / n, c, 1e-6, return_midpoint=True)
