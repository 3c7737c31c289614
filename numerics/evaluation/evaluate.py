"""``evaluate``: a statement at a point, certified, cross-checked by a second engine.

The cross-check evaluates the form again with mpmath. At extreme magnitudes (values near
``10^(10^9)``, a binomial coefficient of a 300-digit integer) mpmath can lose every digit
at its first working precision; the check then raises mpmath's precision, at once to
the digits the point may need (the requested digits, plus those of the longest parameter
value and of the value's decimal exponent) and by a factor of four after that, at most to
``MAX_CROSS_CHECK_DIGITS`` digits and for at most ``CROSS_CHECK_SECONDS`` seconds; a point
that may need more digits than that is not cross-checked at all. A value
that converges into the enclosure agrees; one that keeps changing, or a check out of
digits or time, leaves the certified enclosure as the answer, and
:attr:`Evaluation.cross_check` says so. Only mpmath values that have converged (two
successive precisions agree to the requested digits, the second at least the digits the
point may need) and still lie outside the enclosure raise :class:`EngineDisagreement`:
that is a bug in one engine. (Below that precision mpmath can agree with itself and be
wrong: ``(1e-9999)^(1e-9999)`` is 1 to every precision under 9995 digits.)
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from flint import arb, ctx

from derivations.statement import Statement
from numerics.evaluation import mp as mp_engine
from numerics.evaluation.binding import BoundPoint, bind
from numerics.evaluation.certified import Enclosure, enclosure
from numerics.evaluation.digits import certified_digits, directed_decimal, integer_text

#: extra digits of the mpmath cross-check, so its rounding error is far inside the ball
GUARD_DIGITS = 20
#: the cross-check raises mpmath's working precision at most to this many digits; a point
#: that may need more (parameter values or a decimal exponent of thousands of digits,
#: where mpmath's powers and exponentials take minutes) is not cross-checked
MAX_CROSS_CHECK_DIGITS = 3000
#: the cross-check gives up after this many seconds (the certified value stands alone)
CROSS_CHECK_SECONDS = 30.0
#: :attr:`Evaluation.cross_check` when mpmath's value lies in the enclosure
AGREES = "agrees"


def exact_decimal(value: Fraction) -> str:
    """``1/20`` as ``0.05``; a fraction without a terminating decimal expansion as ``p/q``."""
    if value.denominator == 1:
        return integer_text(value.numerator)
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator != 1:
        return f"{integer_text(value.numerator)}/{integer_text(value.denominator)}"
    places = max(twos, fives)
    digits = abs(value.numerator) * 10**places // value.denominator
    sign = "-" if value < 0 else ""
    text = integer_text(digits).rjust(places + 1, "0")
    return f"{sign}{text[:-places]}.{text[-places:]}"


class EngineDisagreement(AssertionError):
    """The mpmath value lies outside the certified enclosure: a bug in one engine."""


@dataclass(frozen=True)
class Evaluation:
    """A statement's value at a point: the mpmath value and the certified enclosure."""

    point: BoundPoint
    dps: int
    #: mpmath's value when it agrees with the enclosure, else the enclosure's midpoint
    value: str
    enclosure: Enclosure
    #: ``"agrees"``, or why mpmath could not confirm the enclosure (the value is then certified only)
    cross_check: str = AGREES

    @property
    def statement(self) -> Statement:
        return self.point.statement

    @property
    def certified(self) -> bool:
        """True: :func:`evaluate` fails loudly instead of returning an uncertified value."""
        return True

    def _endpoint(self, upward: bool) -> str:
        exact = self.enclosure.exact
        source = exact if exact is not None else (self.enclosure.upper if upward else self.enclosure.lower)
        return directed_decimal(source, self.dps + 2, upward=upward)

    @property
    def lower(self) -> str:
        """The enclosure's lower end, rounded towards -oo."""
        return self._endpoint(upward=False)

    @property
    def upper(self) -> str:
        """The enclosure's upper end, rounded towards +oo."""
        return self._endpoint(upward=True)

    def digits(self, max_digits: int = 20) -> str:
        """Only the digits the enclosure certifies (for reports)."""
        if self.enclosure.exact is not None:
            value = Fraction(int(self.enclosure.exact.p), int(self.enclosure.exact.q))
            low = directed_decimal(value, max_digits, upward=False)
            return low if low == directed_decimal(value, max_digits, upward=True) else certified_digits(self.enclosure.lower, self.enclosure.upper, max_digits)
        return certified_digits(self.enclosure.lower, self.enclosure.upper, max_digits)

    def params_as_strings(self) -> dict[str, object]:
        """The exact parameter values: terminating decimals as decimals, others as p/q."""
        return {
            name: [exact_decimal(item) for item in value] if isinstance(value, tuple) else exact_decimal(value)
            for name, value in self.point.values.items()
        }

    def to_json(self) -> dict[str, object]:
        """The JSON object of ``rankbound eval --json`` (keys are a contract)."""
        return {
            "id": self.statement.id,
            "form": self.point.form.name,
            "params": self.params_as_strings(),
            "dps": self.dps,
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "certified": self.certified,
            "cross_check": self.cross_check,
            "tag": self.statement.tag_of(self.point.form.name),
        }


def _inside(value: arb, certified: Enclosure, digits: int) -> bool:
    """Is the mpmath value, computed with ``digits`` digits, inside the enclosure up to its own rounding error?"""
    with ctx.workprec(certified.precision_bits + 64):
        slack = abs(value) * arb(10) ** (-(digits - 2))
        low = certified.lower - slack
        high = certified.upper + slack
        return bool(low <= value) and bool(value <= high)


def _close(first: arb, second: arb, dps: int) -> bool:
    """Do two mpmath values agree to ``dps`` digits (has mpmath converged)?"""
    with ctx.workprec(max(first.mid().bits(), second.mid().bits(), 64) + 64):
        return bool(abs(first - second) <= abs(second) * arb(10) ** (-dps))


def _midpoint(certified: Enclosure, dps: int) -> str:
    """The enclosure's value with ``dps`` digits, when mpmath cannot supply it."""
    with ctx.workprec(certified.precision_bits + int(certified.ball.mid().man_exp()[1]).bit_length()):
        return certified.ball.mid().str(dps, radius=False)


def _needed_digits(point: BoundPoint, certified: Enclosure, dps: int) -> int:
    """Digits of mpmath precision that suffice at this point unless a formula cancels
    more: the requested and guard digits, the digits of the longest parameter value
    (numerator and denominator) and those of the value's decimal exponent."""
    longest = max((value.numerator.bit_length() + value.denominator.bit_length() for value in point.leaf_values()), default=0)
    exponent_bits = (abs(int(certified.ball.mid().man_exp()[1])) + int(certified.ball.mid().bits())).bit_length()
    return dps + GUARD_DIGITS + math.ceil((longest + exponent_bits) * math.log10(2)) + 1


def _cross_check(point: BoundPoint, dps: int, certified: Enclosure) -> tuple[str, str]:
    """``(value, cross_check)``: mpmath's value if it confirms the enclosure, raising its
    precision while it has not converged; the enclosure's midpoint and the reason otherwise."""
    needed = _needed_digits(point, certified, dps)
    if needed > MAX_CROSS_CHECK_DIGITS:
        return _midpoint(certified, dps), f"not cross-checked: this point may need {needed} digits of mpmath precision, above {MAX_CROSS_CHECK_DIGITS}"
    deadline = time.monotonic() + CROSS_CHECK_SECONDS
    digits, previous = dps + GUARD_DIGITS, None
    while True:
        try:
            value = mp_engine.evaluate_mp(point, digits, certified, deadline)
            ball = mp_engine.to_ball(value)
        except mp_engine.OutOfTime:
            return _midpoint(certified, dps), f"not cross-checked: mpmath took more than {CROSS_CHECK_SECONDS:g} s"
        except mp_engine.UndecidableError as error:
            return _midpoint(certified, dps), f"not cross-checked: mpmath cannot decide a tie ({error})"
        except (ValueError, ZeroDivisionError):  # mpmath gave a non-finite value: not converged
            ball = None
        if ball is not None and _inside(ball, certified, digits):
            return mp_engine.to_string(value, dps), AGREES
        converged = ball is not None and previous is not None and digits >= needed and _close(previous, ball, dps)
        if converged or digits >= MAX_CROSS_CHECK_DIGITS:
            break
        digits, previous = min(max(4 * digits, needed), MAX_CROSS_CHECK_DIGITS), ball
    if converged:
        raise EngineDisagreement(
            f"{point.statement.id}: mpmath gives {mp_engine.to_string(value, dps)} outside the enclosure "
            f"{certified.ball} at {point.describe()}"
        )
    return _midpoint(certified, dps), f"not cross-checked: mpmath has not converged at {digits} digits at this magnitude"


def evaluate(statement: Statement | str, params: Mapping[str, object], dps: int = 50, form: str | None = None) -> Evaluation:
    """Evaluate a statement's form at ``params`` to ``dps`` certified digits.

    The certified enclosure comes from Arb balls (:mod:`numerics.evaluation.certified`);
    the value from mpmath in a private context with ``GUARD_DIGITS`` extra digits, or
    more where it has not converged (see the module's docstring). A converged mpmath
    value outside the enclosure raises :class:`EngineDisagreement`.
    """
    point = bind(statement, params, form)
    certified = enclosure(point, dps)
    value, cross_check = _cross_check(point, dps, certified)
    return Evaluation(point=point, dps=dps, value=value, enclosure=certified, cross_check=cross_check)
