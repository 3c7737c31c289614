"""Special functions of :mod:`derivations.functions`, in each engine: Arb balls, mpmath, NumPy.

``kl_inverse(q, c) = sup{p in [q, 1] : kl(q || p) <= c}`` (binary relative entropy, see
:mod:`derivations.functions`) is the upper end of the Langford–Seeger / Occam bound. Published
PAC-Bayes code inverts kl by bisection and returns the midpoint of the last bracket, which may
lie below the root and then is no bound at all. Here:

* :func:`kl_inverse_ball` returns an Arb ball ``[lo, hi]`` with ``lo <= kl^{-1}(q, c) <= hi``
  *proved* at the working precision: both ends are exact dyadic numbers at which ``kl(q || .)``
  is evaluated in ball arithmetic and certainly ``< c`` (at ``lo``) and ``> c`` (at ``hi``);
  since ``p -> kl(q || p)`` increases on ``[q, 1)``, the root lies between. The points come
  from Newton's method in the log-odds ``t = ln(p / (1 - p))``, where ``t -> kl`` is convex and
  increasing (``dkl/dt = p - q``, ``d^2kl/dt^2 = p (1 - p)``), started to the right of the root so
  that it descends monotonically onto it. When no tight pair can be proved the ball widens
  (never below ``[q, 1]``), and the precision loop of :mod:`numerics.evaluation.certified` raises
  the precision.
* :func:`kl_inverse_mp` bisects in mpmath (the cross-check engine), to the context's precision.
* :func:`kl_inverse_numpy` bisects elementwise in float64 (plots).
* :func:`kl_inverse` is the Python API: an enclosure certified to ``dps`` digits, with its width.

Closed forms: ``kl^{-1}(q, 0) = q``, ``kl^{-1}(1, c) = 1``, ``kl^{-1}(0, c) = 1 - e^{-c} = -expm1(-c)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb, ctx, fmpq, fmpz

#: Newton steps of the approximation before giving up on tightening (it converges in far fewer)
NEWTON_STEPS = 200
#: widths 2^-(prec - k) tried for the certified bracket around the Newton point
BRACKET_SLACK_BITS = (6, 16, 40)
#: the precision loop of :func:`kl_inverse` gives up above this many bits
MAX_PRECISION_BITS = 1 << 14


# ---------------------------------------------------------------------------- conversions
def float_above(value: Fraction) -> float:
    """The smallest float64 at least ``value``."""
    candidate = float(value)
    while Fraction(candidate) < value:
        candidate = math.nextafter(candidate, math.inf)
    return candidate


def float_below(value: Fraction) -> float:
    """The largest float64 at most ``value``."""
    candidate = float(value)
    while Fraction(candidate) > value:
        candidate = math.nextafter(candidate, -math.inf)
    return candidate


def exact_fraction(x: arb) -> Fraction:
    """The exact value of an exact (zero-radius) Arb number, e.g. an enclosure's end."""
    if not x.is_exact():
        raise ValueError(f"{x} is a ball, not an exact number")
    return _fraction(_exact_fmpq(x))


# ---------------------------------------------------------------------------- Arb
def _exact_fmpq(x: arb) -> fmpq:
    """The exact rational value of an exact (zero-radius) Arb number."""
    mantissa, exponent = x.mid().man_exp()
    mantissa, exponent = int(mantissa), int(exponent)
    return fmpq(mantissa * 2**exponent) if exponent >= 0 else fmpq(mantissa, 2**-exponent)


def kl_divergence_ball(q: fmpq, p: fmpq) -> arb:
    """``kl(q || p)`` for exact rationals ``0 <= q <= 1`` and ``0 < p < 1``, as a ball.

    Written with ``d = p - q`` (exact) as ``-q log1p(d / q) + (1 - q) log1p(d / (1 - p))``, so
    that each logarithm is accurate to the working precision even when ``p`` is close to ``q``.
    """
    d = p - q
    first = arb(0) if q == 0 else -arb(q) * arb(d / q).log1p()
    second = arb(0) if q == 1 else arb(1 - q) * arb(d / (1 - p)).log1p()
    return first + second


def _newton_point(q: fmpq, c: arb) -> fmpq:
    """An approximation of ``kl^{-1}(q, c)`` (``0 < q < 1``, ``c > 0``), not certified: Newton's
    method on ``kl(t) - c`` in the log-odds ``t``, from a start to the right of the root."""
    qb = arb(q)
    log_q, log_one_minus_q = qb.log(), (-qb).log1p()
    start = log_q - log_one_minus_q
    # kl >= (1 - q) t - H(q) with H(q) <= q ln(1/q) + 1/e: this t gives kl > c
    t = ((c.mid() - qb * log_q + 1) / (1 - qb) + abs(start) + 1).mid()
    for _ in range(NEWTON_STEPS):
        log_p = -(-t).exp().log1p()
        log_one_minus_p = -t.exp().log1p()
        kl = qb * (log_q - log_p) + (1 - qb) * (log_one_minus_q - log_one_minus_p)
        p = log_p.exp()
        step = ((kl - c.mid()) / (p - qb)).mid()
        t = (t - step).mid()
        if step.is_zero() or abs(step) < abs(t) * arb(2) ** (-ctx.prec + 2) + arb(2) ** (-ctx.prec):
            break
    return _exact_fmpq((1 / (1 + (-t).exp())).mid())


def _certified_bracket(q: fmpq, c: arb) -> tuple[fmpq, fmpq]:
    """``(lo, hi)`` with ``lo <= kl^{-1}(q, c) <= hi`` proved, for ``0 < q < 1`` and ``c > 0``."""
    guess = _newton_point(q, c)
    lo, hi = q, fmpq(1)
    for slack in BRACKET_SLACK_BITS:
        offset = guess * fmpq(1, 2 ** max(ctx.prec - slack, 1))
        low, high = guess - offset, guess + offset
        if lo == q and low > q and kl_divergence_ball(q, low) < c:
            lo = low
        if hi == 1 and high < 1 and kl_divergence_ball(q, high) > c:
            hi = high
        elif hi == 1 and high >= 1:
            hi = fmpq(1)  # kl(q || 1) = +oo > c: the end 1 is tight already
    return lo, hi


def _exact_ends(x: fmpq | arb, name: str) -> tuple[fmpq, fmpq]:
    if isinstance(x, fmpq):
        return x, x
    if not x.is_finite():
        raise ValueError(f"kl_inverse: {name} is not finite")
    return _exact_fmpq(x.lower()), _exact_fmpq(x.upper())


def kl_inverse_ball(q: fmpq | arb, c: fmpq | arb) -> arb:
    """A ball certainly containing ``kl^{-1}(q, c)`` at the working precision (``ctx.prec``).

    ``q`` and ``c`` are exact rationals or balls; a ball is handled through its ends, since
    ``kl^{-1}`` is non-decreasing in both arguments. Raises ``ValueError`` unless
    ``0 <= q <= 1`` and ``c >= 0`` certainly hold.
    """
    q_low, q_high = _exact_ends(q, "q")
    c_low, c_high = _exact_ends(c, "c")
    if q_low < 0 or q_high > 1:
        raise ValueError("kl_inverse(q, c) needs 0 <= q <= 1")
    if c_low < 0:
        raise ValueError("kl_inverse(q, c) needs c >= 0")
    lower = _kl_inverse_exact(q_low, c_low)
    if (q_low, c_low) == (q_high, c_high):
        return lower
    return arb.union(lower, _kl_inverse_exact(q_high, c_high))


def _kl_inverse_exact(q: fmpq, c: fmpq) -> arb:
    """A ball containing ``kl^{-1}(q, c)`` for exact ``q``, ``c`` (one end of the general case)."""
    if q == 1:
        return arb(1)
    if c == 0:
        return arb(q)
    if q == 0:
        return -(-arb(c)).expm1()
    lo, hi = _certified_bracket(q, arb(c))
    return arb.union(arb(lo), arb(hi))


# ---------------------------------------------------------------------------- mpmath
def kl_inverse_mp(context, q, c):  # noqa: ANN001, ANN201 - mpmath context and its numbers
    """``kl^{-1}(q, c)`` by bisection on ``p`` in an mpmath ``context``, to its precision.

    Independent of the Arb path (no Newton step, no log-odds): the bracket ``[q, 1]`` is halved
    until its width is below ``2^-prec`` relative to its upper end; the upper end is returned.
    """
    q, c = context.mpf(q), context.mpf(c)
    if not (0 <= q <= 1) or c < 0:
        raise ValueError(f"kl_inverse(q={q}, c={c}) needs 0 <= q <= 1 and c >= 0")
    if q == 1:
        return context.mpf(1)
    if c == 0:
        return q
    if q == 0:
        return -context.expm1(-c)

    def kl(p):  # noqa: ANN001, ANN202
        d = p - q
        return -q * context.log1p(d / q) + (1 - q) * context.log1p(d / (1 - p))

    low, high = q, context.mpf(1)
    tolerance = context.ldexp(1, -context.prec)
    for _ in range(context.prec + 4096):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if kl(middle) > c:
            high = middle
        else:
            low = middle
        if high - low <= tolerance * high:
            break
    return high


# ---------------------------------------------------------------------------- NumPy
def kl_inverse_numpy(q: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Elementwise ``kl^{-1}(q, c)`` in float64 by bisection (relative accuracy ~1e-15; plots only)."""
    q, c = np.broadcast_arrays(np.asarray(q, dtype=float), np.asarray(c, dtype=float))
    if np.any((q < 0) | (q > 1) | (c < 0)):
        raise ValueError("kl_inverse(q, c) needs 0 <= q <= 1 and c >= 0")
    high = np.ones_like(q)
    inner = (q > 0) & (q < 1) & (c > 0)
    qi, ci = q[inner], c[inner]
    lo, hi = qi.copy(), np.ones_like(qi)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(1100):  # enough to reach the float64 spacing anywhere in (0, 1]
            middle = (lo + hi) / 2
            if np.all((middle == lo) | (middle == hi)):
                break
            d = middle - qi  # log1p of the small ratios: plain logs of (1-q)/(1-p) ~ 1 lose digits
            kl = -qi * np.log1p(d / qi) + (1 - qi) * np.log1p(d / (1 - middle))
            above = kl > ci
            hi = np.where(above, middle, hi)
            lo = np.where(above, lo, middle)
    high[inner] = hi
    at_zero = (q == 0) & (c > 0)
    high[at_zero] = -np.expm1(-c[at_zero])
    high[c == 0] = q[c == 0]
    return high


# ---------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Special:
    """One special function in every engine (see the module docstring)."""

    ball: Callable[..., arb]
    mp: Callable[..., object]  #: takes the mpmath context first
    numpy: Callable[..., np.ndarray]


#: SymPy function name -> implementations (the names of :mod:`derivations.functions`)
SPECIAL_FUNCTIONS: dict[str, Special] = {
    "kl_inverse": Special(kl_inverse_ball, kl_inverse_mp, kl_inverse_numpy),
}


# ---------------------------------------------------------------------------- Python API
@dataclass(frozen=True)
class KlInverse:
    """A certified enclosure ``lower <= kl^{-1}(q, c) <= upper`` (exact rationals).

    ``upper`` is a valid value of the bound; ``width = upper - lower`` says how tight it is.
    ``precision_bits`` is the Arb working precision that certified it (0: an exact closed form).
    """

    q: Fraction
    c: Fraction
    lower: Fraction
    upper: Fraction
    precision_bits: int

    @property
    def width(self) -> Fraction:
        return self.upper - self.lower

    @property
    def upper_float(self) -> float:
        """The smallest float64 at least ``upper`` (still a valid bound)."""
        return float_above(self.upper)

    @property
    def lower_float(self) -> float:
        """The largest float64 at most ``lower``."""
        return float_below(self.lower)


def _as_fraction(name: str, value: object) -> Fraction:
    from numerics.evaluation.binding import to_fraction

    return to_fraction(name, value)


def kl_inverse(q: object, c: object, *, dps: int = 30) -> KlInverse:
    """``kl^{-1}(q, c)`` certified: an enclosure whose width is at most ``10^-dps`` times its
    upper end. ``q`` and ``c`` are exact (str ``"0.05"``, ``Fraction``, int, or a float taken
    at its exact binary value). Raises ``ValueError`` naming the violated condition.
    """
    from numerics.evaluation.binding import ParameterError

    q_exact, c_exact = _as_fraction("q", q), _as_fraction("c", c)
    if not 0 <= q_exact <= 1:
        raise ParameterError(f"q={q}: must satisfy 0 <= q <= 1")
    if c_exact < 0:
        raise ParameterError(f"c={c}: must be >= 0")
    if dps < 1:
        raise ParameterError(f"dps={dps}: must be >= 1")
    if q_exact == 1 or c_exact == 0:  # kl^{-1}(1, c) = 1, kl^{-1}(q, 0) = q: exact rationals
        value = Fraction(1) if q_exact == 1 else q_exact
        return KlInverse(q_exact, c_exact, value, value, 0)
    q_flint, c_flint = fmpq(q_exact.numerator, q_exact.denominator), fmpq(c_exact.numerator, c_exact.denominator)
    precision = math.ceil(dps * math.log2(10)) + 32
    while precision <= MAX_PRECISION_BITS:
        with ctx.workprec(precision):
            ball = kl_inverse_ball(q_flint, c_flint)
            lower, upper = _exact_fmpq(ball.lower()), _exact_fmpq(ball.upper())
        if (upper - lower) * 10**dps <= upper:
            return KlInverse(q_exact, c_exact, _fraction(lower), _fraction(upper), precision)
        precision *= 2
    raise ArithmeticError(f"kl_inverse(q={q}, c={c}): could not certify {dps} digits below {MAX_PRECISION_BITS} bits")


def _fraction(x: fmpq) -> Fraction:
    return Fraction(int(fmpz(x.p)), int(fmpz(x.q)))
