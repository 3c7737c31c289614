"""Certified enclosures: the precision loop around the ball compiler.

:func:`enclosure` evaluates a bound point with :mod:`numerics.evaluation.ball` at a
working precision a little above the requested digits, and doubles the precision until
the enclosure's relative accuracy certifies them. Discrete decisions that stay
undecided at high precision (a ceiling whose argument is exactly an integer reached
through transcendental operations) are decided exactly by SymPy. If neither succeeds
it fails loudly with :class:`CertificationError` rather than returning a guess.
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
MAX_PRECISION_BITS = 1 << 15
#: doublings before an undecided node is handed to SymPy
DOUBLINGS_BEFORE_EXACT = 2


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
            except Undecided:
                continue
            except NonFinite as error:
                raise ParameterError(f"{point.statement.id}: {error} at {dict(point.values)}") from None
            if isinstance(result, fmpq) or result.rel_accuracy_bits() >= goal or result.is_exact():
                exact = result if isinstance(result, fmpq) else None
                results[position] = Enclosure.from_ball(arb(result) if exact is not None else result, exact, start, state)
    return [result if result is not None else _precision_loop(point, goal, start * 2) for result, point in zip(results, points)]


def _precision_loop(point: BoundPoint, goal: int, precision: int) -> Enclosure:
    """Raise the precision until ``goal`` bits are certified; decide ties exactly."""
    closure = _compiled(point.expanded)
    leaves = [fmpq(v.numerator, v.denominator) for v in point.leaf_values()]
    state = Decisions()
    doublings = 1
    while precision <= MAX_PRECISION_BITS:
        state.new_pass()
        with ctx.workprec(precision):
            try:
                result = closure(leaves, state)
            except Undecided as undecided:
                if doublings >= DOUBLINGS_BEFORE_EXACT:
                    state.forced[undecided.key] = _decide_exactly(undecided.node, point)
                else:
                    precision *= 2
                    doublings += 1
                continue
            except NonFinite as error:
                raise ParameterError(f"{point.statement.id}: {error} at {dict(point.values)}") from None
            if isinstance(result, fmpq):
                return Enclosure.from_ball(arb(result), result, precision, state)
            if result.rel_accuracy_bits() >= goal or result.is_exact():
                return Enclosure.from_ball(result, None, precision, state)
        if state.straddled and doublings >= DOUBLINGS_BEFORE_EXACT:
            # an integer rounding of a tie keeps the result wide at any precision
            for key, node in state.straddled.items():
                state.forced[key] = _decide_exactly(node, point)
            continue
        precision *= 2
        doublings += 1
    raise CertificationError(
        f"{point.statement.id}: could not certify the requested digits below {MAX_PRECISION_BITS} bits of working precision"
    )


def _decide_exactly(node: sympy.Basic, point: BoundPoint) -> object:
    value = node.xreplace(point.exact_substitution())
    if isinstance(value, sympy.logic.boolalg.BooleanAtom):
        return bool(value)
    if value.is_Integer:
        return fmpq(int(value))
    shown = str(value) if value.is_Atom or len(str(node)) < 200 else f"{str(node)[:200]}..."
    raise CertificationError(f"{point.statement.id}: cannot decide {shown} exactly at this point")
