"""Evaluation with mpmath in a private context (the global ``mp.dps`` is never touched).

The expanded form is translated by SymPy's own ``lambdify`` into the namespace of a
private :class:`mpmath.MPContext`, independently of the ball compiler of
:mod:`numerics.evaluation.ball`, so that the two engines cross-check each other's
translation as well as their arithmetic.

Discrete operations (ceilings, floors and the relations of ``Piecewise`` conditions) are
rewritten into calls that decide them in mpmath, lazily (only the branch taken is
evaluated). At an exact tie — a ceiling of a number within ``10**-(dps - TIE_MARGIN)`` of
an integer, two sides of a condition that agree to as many digits — floating point cannot
decide, and the engine borrows the decision the certified engine recorded for the same
node (see :class:`~numerics.evaluation.ball.Decisions`); without one it raises
:class:`UndecidableError` instead of guessing.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import mpmath
import sympy
from flint import arb, ctx, fmpz

from numerics.evaluation.binding import BoundPoint, ExpandedForm
from numerics.evaluation.flattened import PRODUCT, SUM, long_operations_as_calls
from numerics.evaluation.special import SPECIAL_FUNCTIONS

_CONTEXT = mpmath.MPContext()
_LOCK = threading.Lock()
_NAMES = ("mpf", "log", "exp", "sqrt", "pi", "e", "power", "fabs")
#: digits below the working precision at which two numbers count as tied
TIE_MARGIN = 10

_CEILING = sympy.Function("_rankbound_ceiling")
_FLOOR = sympy.Function("_rankbound_floor")
_HOLDS = sympy.Function("_rankbound_holds")
_POWER = sympy.Function("_rankbound_power")
#: powers with an integer exponent beyond 2**HUGE_EXPONENT_BITS go through exp and log
HUGE_EXPONENT_BITS = 64
_RELATIONS = {
    sympy.StrictLessThan: lambda d: d < 0,
    sympy.LessThan: lambda d: d <= 0,
    sympy.StrictGreaterThan: lambda d: d > 0,
    sympy.GreaterThan: lambda d: d >= 0,
    sympy.Equality: lambda d: d == 0,
}


class UndecidableError(ArithmeticError):
    """A discrete sub-expression is tied at the working precision and no decision is known."""


class OutOfTime(ArithmeticError):
    """The evaluation ran past its deadline (checked at every sum, product, binomial
    coefficient and discrete decision of the translated form)."""


@dataclass(frozen=True)
class _Translated:
    function: Callable[..., object]
    discrete: tuple[sympy.Basic, ...]  # node for each key of the rewritten calls


@lru_cache(maxsize=512)
def _translate(expanded: ExpandedForm) -> _Translated:
    arguments = [sympy.Symbol(f"_rankbound_x{k}") for k in range(len(expanded.leaves))]
    leaf_map = dict(zip(expanded.leaves, arguments))
    discrete: list[sympy.Basic] = []

    def rewrite(node: sympy.Basic) -> sympy.Basic:
        if node in leaf_map:
            return leaf_map[node]
        if node.is_Atom:
            return node
        if isinstance(node, sympy.Piecewise):
            return sympy.Piecewise(*((rewrite(p.expr), rewrite(p.cond)) for p in node.args), evaluate=False)
        args = [rewrite(arg) for arg in node.args]
        if isinstance(node, (sympy.ceiling, sympy.floor)):
            discrete.append(node)
            call = _CEILING if isinstance(node, sympy.ceiling) else _FLOOR
            return call(args[0], sympy.Integer(len(discrete) - 1))
        if type(node) in _RELATIONS:
            discrete.append(node)
            return sympy.Eq(_HOLDS(args[0], args[1], sympy.Integer(len(discrete) - 1)), 1, evaluate=False)
        if isinstance(node, sympy.Pow) and not node.exp.is_Number:
            return _POWER(*args)
        return node.func(*args, evaluate=False)

    expr = long_operations_as_calls(rewrite(expanded.expr))
    namespace: dict[str, object] = {name: getattr(_CONTEXT, name) for name in _NAMES}
    namespace.update(_rankbound_ceiling=_active_ceiling, _rankbound_floor=_active_floor, _rankbound_holds=_active_holds)
    namespace.update({SUM.__name__: _sum, PRODUCT.__name__: _product, _POWER.__name__: _power, "binomial": _binomial})
    namespace.update({name: functools.partial(special.mp, _CONTEXT) for name, special in SPECIAL_FUNCTIONS.items()})
    # plain symbols with reserved names: lambdify uses them as they are (re-naming many
    # Dummy arguments costs time quadratic in their number)
    function = sympy.lambdify(arguments, expr, modules=[namespace, "mpmath"], dummify=False)
    return _Translated(function, tuple(discrete))


def _tick() -> None:
    if _active is not None and _active.deadline is not None and time.monotonic() > _active.deadline:
        raise OutOfTime("the mpmath evaluation ran out of time")


def _sum(*terms: object) -> mpmath.mpf:
    _tick()
    return _CONTEXT.fsum(terms)


def _product(*factors: object) -> mpmath.mpf:
    _tick()
    return _CONTEXT.fprod(factors)


def _power(base: mpmath.mpf, exponent: mpmath.mpf) -> mpmath.mpf:
    """``base ** exponent``; mpmath raises to a huge integer power by repeated squaring
    with a working precision of four times the exponent's bits (minutes for an exponent
    of 10**9999), so such powers are ``exp(exponent log |base|)`` at a precision raised by
    the exponent's bits instead."""
    _tick()
    if not (base and _CONTEXT.isint(exponent) and _CONTEXT.mag(exponent) > HUGE_EXPONENT_BITS):
        return base**exponent
    with _CONTEXT.extraprec(int(_CONTEXT.mag(exponent)) + 10):
        value = _CONTEXT.exp(exponent * _CONTEXT.log(abs(base)))
    odd = base < 0 and int(exponent) % 2 == 1
    return -value if odd else +value


def _binomial(n: mpmath.mpf, k: mpmath.mpf) -> mpmath.mpf:
    """``binomial(n, k)``; mpmath's own divides gamma functions of ``n + 1`` and
    ``n - k + 1``, which are rounded to the same number once ``n`` has more digits than
    the working precision (``binomial(10**300, 3)`` would be 1/6): the working precision
    is raised by the bits of ``n`` for the call."""
    _tick()
    extra = max(int(_CONTEXT.mag(n)), 0) if n else 0
    with _CONTEXT.extraprec(extra + 10):
        value = _CONTEXT.binomial(n, k)
    return +value


class _Discrete:
    """Decides the rewritten discrete calls of one evaluation."""

    def __init__(self, nodes: tuple[sympy.Basic, ...], certified: Certified, tie_digits: int, deadline: float | None) -> None:
        self.nodes = nodes
        self.certified = certified
        self.tolerance = _CONTEXT.mpf(10) ** (-tie_digits)
        self.deadline = deadline

    def borrow(self, key: int) -> object:
        node = self.nodes[key]
        if node not in self.certified.decisions:
            raise UndecidableError(f"{node} is tied at the working precision and has no certified decision")
        return self.certified.decisions[node]

    def rounding(self, x: mpmath.mpf, key: int, ceiling: bool) -> mpmath.mpf:
        rounded = _CONTEXT.ceil(x) if ceiling else _CONTEXT.floor(x)
        node = self.nodes[key]
        if node in self.certified.immaterial and node not in self.certified.decisions:
            return rounded  # the certified value does not depend on this rounding
        # the computed x carries a relative error: a tie is an integer within that error
        # (a tiny x far from 0 in relative terms is not tied with 0)
        if abs(x - _CONTEXT.nint(x)) <= self.tolerance * abs(x) or (x == 0 and node in self.certified.decisions):
            return _CONTEXT.mpf(int(self.borrow(key)))
        return rounded

    def holds(self, left: mpmath.mpf, right: mpmath.mpf, key: int) -> int:
        difference = _CONTEXT.mpf(left) - right
        if abs(difference) <= self.tolerance * max(abs(left), abs(right)):
            return int(bool(self.borrow(key)))
        return int(_RELATIONS[type(self.nodes[key])](difference))


_active: _Discrete | None = None


def _active_ceiling(x: mpmath.mpf, key: int) -> int:
    assert _active is not None
    _tick()
    return _active.rounding(x, int(key), ceiling=True)


def _active_floor(x: mpmath.mpf, key: int) -> int:
    assert _active is not None
    _tick()
    return _active.rounding(x, int(key), ceiling=False)


def _active_holds(left: mpmath.mpf, right: mpmath.mpf, key: int) -> int:
    assert _active is not None
    _tick()
    return _active.holds(left, right, int(key))


class Certified(Protocol):
    """What the mp engine may borrow from a certified evaluation (an ``Enclosure``)."""

    decisions: Mapping[sympy.Basic, object]
    immaterial: frozenset[sympy.Basic]


@dataclass(frozen=True)
class _NothingCertified:
    decisions: Mapping[sympy.Basic, object] = field(default_factory=dict)
    immaterial: frozenset[sympy.Basic] = frozenset()


def evaluate_mp(point: BoundPoint, dps: int, certified: Certified | None = None, deadline: float | None = None) -> mpmath.mpf:
    """The form's value at ``point`` with ``dps`` significant digits (a private-context mpf).

    ``certified`` supplies the certified engine's discrete decisions (used only at exact
    ties) and the roundings its value does not depend on. Past ``deadline`` (a
    ``time.monotonic()`` value) the evaluation stops with :class:`OutOfTime`.
    """
    global _active
    translated = _translate(point.expanded)
    with _LOCK:
        saved = _CONTEXT.prec
        try:
            _CONTEXT.dps = dps
            _active = _Discrete(translated.discrete, certified or _NothingCertified(), dps - TIE_MARGIN, deadline)
            arguments = [_CONTEXT.mpf(value.numerator) / value.denominator for value in point.leaf_values()]
            return _CONTEXT.mpf(translated.function(*arguments))
        finally:
            _active = None
            _CONTEXT.prec = saved


def to_nstr(raw: tuple, digits: int) -> str:
    """``digits`` significant digits of an mpf given by its raw ``_mpf_`` tuple (of any context)."""
    return _CONTEXT.nstr(_CONTEXT.make_mpf(raw), digits)


def to_string(value: mpmath.mpf, dps: int) -> str:
    """Decimal string with ``dps`` significant digits (an exponent of any length)."""
    with _LOCK:
        saved = _CONTEXT.prec
        try:
            _CONTEXT.dps = dps + 5
            return _CONTEXT.nstr(+value, dps)
        except ValueError:  # a decimal exponent beyond the str() digit limit of Python's int
            with ctx.workprec(4 * dps + 128 + abs(int(value._mpf_[2])).bit_length()):
                return to_ball(value).str(dps, radius=False)
        finally:
            _CONTEXT.prec = saved


def to_ball(value: mpmath.mpf | tuple[int, int, int]) -> arb:
    """The exact value of a finite mpf, or of its raw ``(sign, mantissa, exponent)``,
    as an exact Arb number (any magnitude)."""
    sign, mantissa, exponent = value[:3] if isinstance(value, tuple) else value._mpf_[:3]
    if not mantissa and exponent:
        raise ValueError(f"{value} is not finite")
    with ctx.workprec(max(int(mantissa).bit_length(), 2) + 8):
        return arb(fmpz(-mantissa if sign else mantissa)) * arb(2) ** int(exponent)
