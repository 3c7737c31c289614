"""Certified enclosures: the precision loop around the ball compiler.

:func:`enclosure` evaluates a bound point with :mod:`numerics.evaluation.ball` at a
working precision a little above the requested digits, and doubles the precision until
the enclosure's relative accuracy certifies them. Discrete decisions that stay
undecided at high precision (a ceiling whose argument is exactly an integer reached
through transcendental operations) are decided exactly by SymPy, but only when every
parameter value in the undecided node is small (at most ``EXACT_DECISION_BITS`` bits
in numerator and denominator): SymPy's exact arithmetic on a value such as
``p = 1e-300`` (a 997-bit denominator in a rational exponent) takes unbounded time and
memory, while balls decide such a node at a working precision of about a thousand bits.
If neither succeeds below ``MAX_PRECISION_BITS`` it fails loudly with
:class:`CertificationError` rather than returning a guess.

The working precision is at most ``MAX_PRECISION_BITS`` bits (about 19700 digits), which
bounds the time and memory of every evaluation: a value of magnitude ``10^(10^k)`` is
certified to ``dps`` digits while ``k + dps`` stays below about 19600; beyond, or at a
pole, the evaluation fails with one clear error. A non-finite ball (Arb's range grows
with the precision) is retried at higher precision like an inaccurate one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import sympy
from flint import arb, ctx, fmpq

from numerics.evaluation.ball import Decisions, NonFinite, Undecided, compile_expression
from numerics.evaluation.binding import BoundPoint, ExpandedForm, ParameterError

#: the precision loop gives up above this many bits
MAX_PRECISION_BITS = 1 << 16
#: doublings before an undecided node is handed to SymPy
DOUBLINGS_BEFORE_EXACT = 2
#: SymPy decides a node exactly only if its parameter values have at most this many bits
EXACT_DECISION_BITS = 128


class CertificationError(ArithmeticError):
    """The requested digits could not be certified."""


@dataclass(frozen=True)
class Enclosure:
    """A rigorous enclosure ``[lower, upper]`` of the value (exact when ``exact`` is set).

    ``lower`` and ``upper`` are exact Arb numbers (zero radius) extracted at the working
    precision: outside it, ``arb.lower()`` would round them to the global 53 bits.
    """

    ball: arb
    lower: arb
    upper: arb
    exact: fmpq | None
    precision_bits: int
    #: the discrete decisions (floors, ceilings, branch conditions) the evaluation made
    decisions: Mapping[sympy.Basic, object]
    #: roundings left as integer enclosures: the certified value does not depend on them
    immaterial: frozenset[sympy.Basic]

    @classmethod
    def from_ball(cls, ball: arb, exact: fmpq | None, precision_bits: int, state: Decisions) -> Enclosure:
        """The enclosure of ``ball`` (or of the exact rational ``exact``), at the working precision ``precision_bits``."""
        if ctx.prec != precision_bits:
            with ctx.workprec(precision_bits):
                return cls.from_ball(ball, exact, precision_bits, state)
        if exact is not None:  # exact rational: endpoints enclose it (equal when dyadic)
            ball = arb(exact)
        return cls(ball, ball.lower(), ball.upper(), exact, precision_bits, dict(state.made), frozenset(state.straddled.values()))

    @property
    def relative_accuracy_bits(self) -> float:
        return math.inf if self.exact is not None else float(self.ball.rel_accuracy_bits())


@lru_cache(maxsize=512)
def _compiled(expanded: ExpandedForm):
    return compile_expression(expanded.expr, expanded.leaves)


def target_bits(dps: int) -> int:
    return math.ceil(dps * math.log2(10)) + 4


def enclosure(point: BoundPoint, dps: int) -> Enclosure:
    """A certified enclosure of the form's value at ``point`` to ``dps`` digits."""
    return enclosures([point], dps)[0]


def enclosures(points: Sequence[BoundPoint], dps: int) -> list[Enclosure]:
    """Certified enclosures at many points: one pass at the starting precision for all
    (the common case), the precision loop only for the points that need it."""
    if dps < 1:
        raise ParameterError(f"dps={dps}: must be >= 1")
    goal = target_bits(dps)
    start = goal + 32
    results: list[Enclosure | None] = [None] * len(points)
    closures: dict[int, object] = {}  # by the identity of the (cached) expanded form: no rehashing per point
    with ctx.workprec(start):
        for position, point in enumerate(points):
            state = Decisions()
            leaves = [fmpq(v.numerator, v.denominator) for v in point.leaf_values()]
            closure = closures.get(id(point.expanded))
            if closure is None:
                closure = closures[id(point.expanded)] = _compiled(point.expanded)
            try:
                result = closure(leaves, state)
            except (Undecided, NonFinite):  # the precision loop decides, or fails with the reason
                continue
            if isinstance(result, fmpq) or result.rel_accuracy_bits() >= goal or result.is_exact():
                exact = result if isinstance(result, fmpq) else None
                results[position] = Enclosure.from_ball(arb(result) if exact is not None else result, exact, start, state)
    return [result if result is not None else _precision_loop(point, goal, start * 2) for result, point in zip(results, points)]


def _precision_loop(point: BoundPoint, goal: int, precision: int) -> Enclosure:
    """Raise the precision until ``goal`` bits are certified; decide small ties exactly.

    A non-finite ball is retried too: Arb's exponents reach about ``2^precision``, so
    ``9^(10^300)`` overflows at 200 bits and is certified at 2000.
    """
    closure = _compiled(point.expanded)
    leaves = [fmpq(v.numerator, v.denominator) for v in point.leaf_values()]
    state = Decisions()
    doublings = 1
    undecided: dict[int, sympy.Basic] = {}
    non_finite: NonFinite | None = None
    while precision <= MAX_PRECISION_BITS:
        state.new_pass()
        undecided.clear()
        non_finite = None
        with ctx.workprec(precision):
            try:
                result = closure(leaves, state)
            except Undecided as error:
                undecided[error.key] = error.node
            except NonFinite as error:
                non_finite = error
            else:
                if isinstance(result, fmpq):
                    return Enclosure.from_ball(arb(result), result, precision, state)
                if result.rel_accuracy_bits() >= goal or result.is_exact():
                    return Enclosure.from_ball(result, None, precision, state)
                # an integer rounding of a tie keeps the result wide at any precision
                undecided.update(state.straddled)
        decidable = {key: node for key, node in undecided.items() if _small(node, point)}
        if decidable and doublings >= DOUBLINGS_BEFORE_EXACT:
            for key, node in decidable.items():
                state.forced[key] = _decide_exactly(node, point)
            continue
        precision *= 2
        doublings += 1
    if non_finite is not None:
        raise ParameterError(f"{point.statement.id}: {non_finite} at {point.describe()}")
    pending = "; undecided: " + ", ".join(_clipped(node) for node in undecided.values()) if undecided else ""
    raise CertificationError(
        f"{point.statement.id}: could not certify the requested digits below {MAX_PRECISION_BITS} bits of working precision "
        f"at {point.describe()}{pending}"
    )


def _small(node: sympy.Basic, point: BoundPoint) -> bool:
    """Are the parameter values in ``node`` small enough for an exact SymPy decision?"""
    values = point.exact_substitution()
    for leaf in node.atoms(sympy.Symbol, sympy.Indexed):
        value = values.get(leaf)
        if value is not None and max(int(value.p).bit_length(), int(value.q).bit_length()) > EXACT_DECISION_BITS:
            return False
    return True


def _clipped(node: sympy.Basic) -> str:
    text = str(node)
    return text if len(text) < 200 else f"{text[:200]}..."


def _decide_exactly(node: sympy.Basic, point: BoundPoint) -> object:
    value = node.xreplace(point.exact_substitution())
    if isinstance(value, sympy.logic.boolalg.BooleanAtom):
        return bool(value)
    if value.is_Integer:
        return fmpq(int(value))
    shown = _clipped(value) if value.is_Atom else _clipped(node)
    raise CertificationError(f"{point.statement.id}: cannot decide {shown} exactly at {point.describe()}")
