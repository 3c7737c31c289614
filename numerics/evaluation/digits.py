"""Decimal strings of enclosure endpoints, rounded in a stated direction.

An enclosure ``[lower, upper]`` is printed with ``lower`` rounded towards -oo and ``upper``
towards +oo, so the printed interval still contains the true value. Endpoints are exact
Arb numbers (zero radius), possibly astronomically large (covering numbers such as
``(9/eps)^((n1+n2+1) r)`` reach 10^(10^10)): small ones are converted exactly through
fractions, large ones are rounded with Arb itself, taking the floor of a ball's lower
end or the ceiling of its upper end, which is correctly directed at any magnitude.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction

from flint import arb, ctx, fmpq, fmpz

#: endpoints whose binary exponent exceeds this are rounded with balls, not fractions
EXACT_LIMIT_BITS = 20000
#: integers up to this many digits are shown exactly by :func:`short_decimal`
SHORT_DIGITS = 20
_FLOAT_MAX_FRACTION = Fraction(sys.float_info.max)


def exact_fraction(x: arb) -> Fraction | None:
    """The exact value of an exact ball as a Fraction, or None if it is too large to hold."""
    mantissa, exponent = x.mid().man_exp()
    mantissa, exponent = int(mantissa), int(exponent)
    if abs(exponent) + mantissa.bit_length() > EXACT_LIMIT_BITS:
        return None
    return Fraction(mantissa * 2**exponent) if exponent >= 0 else Fraction(mantissa, 2**-exponent)


def _format(integer: int, exponent: int) -> str:
    sign = "-" if integer < 0 else ""
    text = str(abs(integer))
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{integer_text(abs(exponent))}"


def _fraction_decimal(q: Fraction, digits: int, upward: bool) -> str:
    magnitude = abs(q)
    exponent = int((magnitude.numerator.bit_length() - magnitude.denominator.bit_length()) * math.log10(2))
    while Fraction(10) ** exponent > magnitude:
        exponent -= 1
    while Fraction(10) ** (exponent + 1) <= magnitude:
        exponent += 1
    scaled = q * Fraction(10) ** (digits - 1 - exponent)
    integer = -((-scaled.numerator) // scaled.denominator) if upward else scaled.numerator // scaled.denominator
    if abs(integer) >= 10**digits:  # the rounding carried into a new digit
        integer = -((-integer) // 10) if upward else integer // 10
        exponent += 1
    return _format(integer, exponent)


def _ball_decimal(x: arb, digits: int, upward: bool) -> str:
    # the decade of 10^(10^k) is a (k+1)-digit integer: the precision grows with its bits
    with ctx.workprec(4 * digits + 128 + int(x.mid().man_exp()[1]).bit_length()):
        exponent = int(abs(x).log_base(10).mid().floor().unique_fmpz())
        for _ in range(4):  # the decade estimate may be off by one near a power of ten
            scaled = x * arb(10) ** (digits - 1 - exponent)
            end = scaled.upper().ceil() if upward else scaled.lower().floor()
            integer = int(end.unique_fmpz())
            if abs(integer) >= 10**digits:
                exponent += 1
            elif abs(integer) < 10 ** (digits - 1):
                exponent -= 1
            else:
                return _format(integer, exponent)
    raise ArithmeticError(f"cannot place {x} in a decade")


def directed_decimal(x: arb | fmpq | Fraction, digits: int, upward: bool) -> str:
    """``x`` with ``digits`` significant digits, rounded up (towards +oo) or down."""
    if isinstance(x, fmpq):
        x = Fraction(int(x.p), int(x.q))
    if isinstance(x, arb):
        if x.is_zero():
            return "0"
        exact = exact_fraction(x) if x.is_exact() else None
        if exact is None:
            return _ball_decimal(x, digits, upward)
        x = exact
    if x == 0:
        return "0"
    return _fraction_decimal(x, digits, upward)


def integer_text(value: int) -> str:
    """The decimal digits of an integer of any size (``str`` refuses more than 4300 digits)."""
    return str(fmpz(value))


def short_decimal(value: Fraction) -> str:
    """A short readable rendering of an exact rational of any size, for messages.

    Exact when at most ``SHORT_DIGITS`` significant digits say it (``100``, ``0.1``,
    ``1e-300``, ``1e+5000``); otherwise seven significant digits marked ``~`` as rounded
    (``~3.333333e-1``, ``~1.000000e+5000``).
    """
    if value.denominator == 1 and abs(value.numerator) < 10**SHORT_DIGITS:
        return str(value.numerator)
    if value == 0:
        return "0"
    towards_zero = value < 0
    for digits in range(1, SHORT_DIGITS + 1):
        text = directed_decimal(value, digits, upward=towards_zero)
        if Fraction(text) == value:
            if abs(value) <= _FLOAT_MAX_FRACTION and Fraction(repr(float(text))) == value:
                return repr(float(text))  # the same digits, without a needless exponent (0.1)
            return text
    return "~" + directed_decimal(value, 7, upward=towards_zero)


def certified_digits(lower: arb, upper: arb, max_digits: int = 20) -> str:
    """The decimal digits shared by every number of ``[lower, upper]``.

    The longest truncation (towards zero) on which both endpoints agree, at most
    ``max_digits`` digits: ``[1.2345, 1.2351]`` gives ``1.23e+0``. ``"0"`` for [0, 0];
    ``"?"`` when the endpoints differ in sign or in their first digit.
    """
    if lower.is_zero() and upper.is_zero():
        return "0"
    if not (lower > 0 or upper < 0):
        return "?"
    towards_zero_up = bool(upper < 0)
    best = "?"
    for digits in range(1, max_digits + 1):
        low = directed_decimal(lower, digits, upward=towards_zero_up)
        high = directed_decimal(upper, digits, upward=towards_zero_up)
        if low != high:
            break
        best = low
    return best
