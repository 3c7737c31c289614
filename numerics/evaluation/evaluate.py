"""``evaluate``: a statement at a point, certified, cross-checked by a second engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from flint import arb, ctx

from derivations.statement import Statement
from numerics.evaluation import mp as mp_engine
from numerics.evaluation.binding import BoundPoint, bind
from numerics.evaluation.certified import Enclosure, enclosure
from numerics.evaluation.digits import certified_digits, directed_decimal

#: extra digits of the mpmath cross-check, so its rounding error is far inside the ball
GUARD_DIGITS = 20


def exact_decimal(value: Fraction) -> str:
    """``1/20`` as ``0.05``; a fraction without a terminating decimal expansion as ``p/q``."""
    if value.denominator == 1:
        return str(value.numerator)
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    digits = abs(value.numerator) * 10**places // value.denominator
    sign = "-" if value < 0 else ""
    text = str(digits).rjust(places + 1, "0")
    return f"{sign}{text[:-places]}.{text[-places:]}"


class EngineDisagreement(AssertionError):
    """The mpmath value lies outside the certified enclosure: a bug in one engine."""


@dataclass(frozen=True)
class Evaluation:
    """A statement's value at a point: the mpmath value and the certified enclosure."""

    point: BoundPoint
    dps: int
    value: str
    enclosure: Enclosure

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
            "tag": self.statement.tag_of(self.point.form.name),
        }


def _inside(value: arb, certified: Enclosure, dps: int) -> bool:
    """Is the mpmath value inside the enclosure, up to its own rounding error?"""
    with ctx.workprec(certified.precision_bits + 64):
        slack = abs(value) * arb(10) ** (-(dps + GUARD_DIGITS - 2))
        low = certified.lower - slack
        high = certified.upper + slack
        return bool(low <= value) and bool(value <= high)


def evaluate(statement: Statement | str, params: Mapping[str, object], dps: int = 50, form: str | None = None) -> Evaluation:
    """Evaluate a statement's form at ``params`` to ``dps`` certified digits.

    The certified enclosure comes from Arb balls (:mod:`numerics.evaluation.certified`);
    the value from mpmath in a private context with ``GUARD_DIGITS`` extra digits. The
    mpmath value must lie in the enclosure, otherwise :class:`EngineDisagreement` is raised.
    """
    point = bind(statement, params, form)
    certified = enclosure(point, dps)
    mp_value = mp_engine.evaluate_mp(point, dps + GUARD_DIGITS, certified)
    if not _inside(mp_engine.to_ball(mp_value), certified, dps):
        raise EngineDisagreement(
            f"{point.statement.id}: mpmath gives {mp_engine.to_string(mp_value, dps)} outside the enclosure "
            f"{certified.ball} at {dict(point.values)}"
        )
    return Evaluation(point=point, dps=dps, value=mp_engine.to_string(mp_value, dps), enclosure=certified)

