"""Certified evaluation of SymPy expressions with python-flint: exact rationals and Arb balls.

:func:`compile_expression` turns a SymPy expression into a Python closure. Sub-results
stay *exact* (``fmpq``) while the operations allow it (sums, products, integer powers,
perfect roots, ceilings of rationals) and become Arb balls (``arb``) otherwise; every
ball is a rigorous enclosure at the working precision set by the caller with
``flint.ctx.workprec``. Keeping rationals exact matters for integer roundings:
``ceiling((2R/eps)**2)`` at ``R = 1, eps = 1/10`` is exactly 400, which no floating
evaluation can decide.

Comparisons are three-valued. Whenever a discrete decision (a floor, a ceiling, a
``Piecewise`` condition) cannot be made at the current precision the closure raises
:class:`Undecided`; the caller raises the precision or, as a last resort, decides that
node exactly with SymPy and passes the answer back in :attr:`Decisions.forced`. Every
decision made is recorded in :attr:`Decisions.made`, keyed by the SymPy node, so that a
second engine can borrow it at an exact tie.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import sympy
from flint import arb, ctx, fmpq, fmpz

from numerics.evaluation.special import SPECIAL_FUNCTIONS

Number = fmpq | arb


class Decisions:
    """State of one evaluation: discrete decisions forced by the caller, made (recorded),
    roundings left as integer enclosures because their argument straddled an integer, and
    the values of shared sub-expressions (reset with :meth:`new_pass`)."""

    __slots__ = ("forced", "made", "straddled", "shared")

    def __init__(self) -> None:
        self.forced: dict[int, object] = {}
        self.made: dict[sympy.Basic, object] = {}
        self.straddled: dict[int, sympy.Basic] = {}
        self.shared: dict[int, object] = {}

    def new_pass(self) -> None:
        """Forget what depends on the working precision before re-evaluating."""
        self.straddled.clear()
        self.shared.clear()


Closure = Callable[[Sequence[Number], Decisions], object]

#: largest exact power computed with rationals, in bits of the result
EXACT_POWER_BITS = 1 << 16
#: an exact rational whose numerator and denominator together exceed this many bits is
#: replaced by its ball: exact arithmetic stays bounded in time and memory however many
#: terms a sum or product has
MAX_EXACT_BITS = 1 << 17
#: largest binomial coefficient computed exactly, in bits (larger ones are balls: a sum of
#: thousands of exact binomials of thousands of digits each would cost minutes)
EXACT_BINOMIAL_BITS = 1 << 12


class Undecided(Exception):
    """A discrete decision could not be made at the current precision."""

    def __init__(self, node: sympy.Basic, key: int) -> None:
        super().__init__(f"cannot decide {node} at this precision")
        self.node = node
        self.key = key


class NonFinite(ArithmeticError):
    """An operation produced a non-finite ball (a pole or a domain error)."""


# ---------------------------------------------------------------------------- arithmetic
def as_ball(x: Number) -> arb:
    return x if isinstance(x, arb) else arb(x)


def _checked(x: arb, what: str) -> arb:
    if not x.is_finite():
        raise NonFinite(f"{what} is not finite (a pole, or a magnitude beyond the range of ball arithmetic, about 10^(10^19000))")
    return x


def bounded(x: Number) -> Number:
    """``x``, or its ball at the working precision once an exact rational outgrows ``MAX_EXACT_BITS``."""
    if type(x) is fmpq and x.height_bits() > MAX_EXACT_BITS:
        return arb(x)
    return x


def _add(x: Number, y: Number) -> Number:
    return bounded(x + y)


def _multiply(x: Number, y: Number) -> Number:
    return bounded(x * y)


def binomial(n: Number, k: Number) -> Number:
    """``binomial(n, k)`` for integers ``n >= 0``: exact while the result has at most
    ``EXACT_BINOMIAL_BITS`` bits, a ball otherwise."""
    if not (isinstance(n, fmpq) and isinstance(k, fmpq) and n.q == 1 and k.q == 1 and n >= 0):
        raise TypeError("binomial coefficients need integer arguments n >= 0")
    if k < 0 or k > n:
        return fmpq(0)
    smaller = int(min(k, n - k).p)
    if smaller * fmpz(n.p).bit_length() <= EXACT_BINOMIAL_BITS:
        return fmpq(math.comb(int(n.p), smaller))
    return _checked(arb(n).bin(smaller), "a binomial coefficient")


def _exact_root(q: fmpq, degree: int) -> fmpq | None:
    """The exact ``degree``-th root of a non-negative rational, if it is rational."""
    p, r = fmpz(q.p), fmpz(q.q)
    root_p, root_r = p.root(degree), r.root(degree)
    if root_p**degree == p and root_r**degree == r:
        return fmpq(root_p, root_r)
    return None


def power(base: Number, exponent: Number) -> Number:
    if isinstance(exponent, fmpq):
        if isinstance(base, fmpq):
            if base == 0:
                if exponent > 0:
                    return fmpq(0)
                raise NonFinite("0 raised to a non-positive power")
            if exponent.q == 1:
                bits = abs(int(exponent.p)) * (fmpz(base.p).bit_length() + fmpz(base.q).bit_length())
                if bits <= EXACT_POWER_BITS:
                    return base ** int(exponent.p)
            elif base > 0 and exponent.q <= 64:
                root = _exact_root(base, int(exponent.q))
                if root is not None:
                    return power(root, fmpq(exponent.p))
        if exponent.q == 1:
            return _checked(as_ball(base) ** int(exponent.p), "an integer power")
        if isinstance(base, arb) and base.contains(0) and exponent > 0 and not (base < 0):
            # x^a on [0, hi] for a > 0: enclose by [0, hi^a] (monotone, exact at 0)
            upper = as_ball(base.upper()) ** as_ball(exponent)
            return arb.union(arb(0), upper)
    ball = as_ball(base)
    if not ball > 0:
        raise NonFinite("a non-integer power of a number that is not certainly positive")
    return _checked((as_ball(exponent) * ball.log()).exp(), "a power")


def square_root(x: Number) -> Number:
    if isinstance(x, fmpq):
        return power(x, fmpq(1, 2))
    if not x >= 0:
        raise NonFinite("square root of a number that is not certainly non-negative")
    return x.sqrt()


def log(x: Number) -> Number:
    if isinstance(x, fmpq) and x == 1:
        return fmpq(0)
    ball = as_ball(x)
    if not ball > 0:
        raise NonFinite("log of a number that is not certainly positive")
    return ball.log()


def exp(x: Number) -> Number:
    if isinstance(x, fmpq) and x == 0:
        return fmpq(1)
    return _checked(as_ball(x).exp(), "exp")


def compare(x: Number, y: Number, op: str) -> bool | None:
    """``x op y`` decided exactly, or certainly for balls; ``None`` when the balls overlap.

    python-flint's ball comparisons are true only when *certainly* true, so a relation is
    decided when it or its negation is certain.
    """
    if isinstance(x, fmpq) and isinstance(y, fmpq):
        return _OPS[op](x, y)
    a, b = as_ball(x), as_ball(y)
    if _OPS[op](a, b):
        return True
    if _OPS[_NEGATION[op]](a, b):
        return False
    return None


_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
}
_NEGATION = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!="}
_OPS["!="] = lambda a, b: a != b
_REL = {sympy.StrictLessThan: "<", sympy.LessThan: "<=", sympy.StrictGreaterThan: ">", sympy.GreaterThan: ">=", sympy.Equality: "=="}


def round_to_integer(x: Number, ceiling: bool) -> fmpq | arb:
    """Exact ceiling/floor, or the integer enclosure [round(lo), round(hi)] of a ball that
    straddles an integer (rigorous, and enough wherever the rounding is later capped)."""
    if isinstance(x, fmpq):
        return fmpq(x.ceil() if ceiling else x.floor())
    rounded = x.ceil() if ceiling else x.floor()
    if rounded.is_exact():
        return fmpq(rounded.unique_fmpz())
    low, high = x.lower(), x.upper()
    return arb.union(low.ceil(), high.ceil()) if ceiling else arb.union(low.floor(), high.floor())


# ---------------------------------------------------------------------------- compiler
def compile_expression(expr: sympy.Basic, leaves: Sequence[sympy.Basic]) -> Closure:
    """A closure ``f(values, decisions)`` evaluating ``expr`` with ``leaves[k] = values[k]``.

    ``decisions.forced`` maps the key of an :class:`Undecided` node to its exactly decided
    value; ``decisions.made`` receives every discrete decision, keyed by node.
    """
    positions = {leaf: k for k, leaf in enumerate(leaves)}
    counts: dict[sympy.Basic, int] = {}
    for node in sympy.preorder_traversal(expr):
        counts[node] = counts.get(node, 0) + 1
    shared = {node for node, count in counts.items() if count > 1 and not node.is_Atom and node not in positions}
    return _Compiler(positions, shared).compile(expr)


class _Compiler:
    def __init__(self, positions: dict[sympy.Basic, int], shared: set[sympy.Basic]) -> None:
        self.positions = positions
        self.shared = shared
        self.compiled: dict[sympy.Basic, Closure] = {}
        self.keys = 0

    def _key(self) -> int:
        self.keys += 1
        return self.keys

    def compile(self, node: sympy.Basic) -> Closure:
        """A closure for ``node``; a sub-expression occurring more than once is computed
        once per evaluation pass (its value is kept in ``Decisions.shared``), and one
        without leaves (``log(2)``, ``e``) once per working precision."""
        if node in self.compiled:
            return self.compiled[node]
        closure = self._compile(node)
        if not node.is_Atom and self._is_constant(node):
            inner, cache = closure, {}

            def closure(values, state):
                precision = ctx.prec
                value = cache.get(precision)
                if value is None:
                    value = cache[precision] = inner(values, state)
                return value

        elif node in self.shared:
            slot, inner = self._key(), closure

            def closure(values, state):
                value = state.shared.get(slot)
                if value is None:
                    value = state.shared[slot] = inner(values, state)
                return value

        self.compiled[node] = closure
        return closure

    def _is_constant(self, node: sympy.Basic) -> bool:
        """No leaf below and nothing discrete (a constant's value depends only on the precision)."""
        if any(leaf in self.positions for leaf in sympy.preorder_traversal(node)):
            return False
        return not node.has(sympy.ceiling, sympy.floor, sympy.Piecewise, sympy.core.relational.Relational)

    def _compile(self, node: sympy.Basic) -> Closure:
        if node in self.positions:
            k = self.positions[node]
            return lambda values, state: values[k]
        if node.is_Rational:
            constant = fmpq(int(node.p), int(node.q))
            return lambda values, state: constant
        if node is sympy.E:
            return lambda values, state: arb.const_e()
        if node is sympy.pi:
            return lambda values, state: arb.pi()
        if node is sympy.true or node is sympy.false:
            truth = bool(node)
            return lambda values, state: truth
        if node.is_Float:
            raise TypeError(f"floating-point literal {node} in a statement: declare exact rationals")
        special = SPECIAL_FUNCTIONS.get(type(node).__name__)
        if special is not None:
            return self._special(node, special.ball)
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:
            if isinstance(node, sympy.Function) and type(node).__name__ == "binomial":
                return self._binomial(node)
            raise TypeError(f"cannot evaluate {type(node).__name__} ({node}) with balls")
        return handler(node)

    def _args(self, node: sympy.Basic) -> list[Closure]:
        return [self.compile(arg) for arg in node.args]

    def _fold(self, node: sympy.Basic, operation: Callable[[Number, Number], Number]) -> Closure:
        parts = self._args(node)
        if len(parts) == 2:
            first, second = parts
            return lambda values, state: operation(first(values, state), second(values, state))

        def evaluate(values, state):
            result = parts[0](values, state)
            for part in parts[1:]:
                result = operation(result, part(values, state))
            return result

        return evaluate

    # python-flint's own operators keep fmpq + fmpq exact and turn any mix with a ball
    # into a ball, which is exactly the rule; ``bounded`` caps the size of exact results
    def _Add(self, node: sympy.Add) -> Closure:
        return self._fold(node, _add)

    def _Mul(self, node: sympy.Mul) -> Closure:
        return self._fold(node, _multiply)

    def _Pow(self, node: sympy.Pow) -> Closure:
        base, exponent = self._args(node)
        if node.exp == sympy.Rational(1, 2):
            return lambda values, state: square_root(base(values, state))
        return lambda values, state: power(base(values, state), exponent(values, state))

    def _exp(self, node: sympy.exp) -> Closure:
        (arg,) = self._args(node)
        return lambda values, state: exp(arg(values, state))

    def _log(self, node: sympy.log) -> Closure:
        (arg,) = self._args(node)
        return lambda values, state: log(arg(values, state))

    def _Abs(self, node: sympy.Abs) -> Closure:
        (arg,) = self._args(node)
        return lambda values, state: abs(arg(values, state))

    def _special(self, node: sympy.Basic, function: Callable[..., arb]) -> Closure:
        """A function of :mod:`numerics.evaluation.special`; its domain errors become :class:`NonFinite`."""
        parts = self._args(node)

        def evaluate(values, state):
            try:
                return function(*(part(values, state) for part in parts))
            except ValueError as error:
                raise NonFinite(str(error)) from None

        return evaluate

    def _binomial(self, node: sympy.Basic) -> Closure:
        top, bottom = self._args(node)
        return lambda values, state: binomial(top(values, state), bottom(values, state))

    def _rounding(self, node: sympy.Basic, ceiling: bool) -> Closure:
        (arg,) = self._args(node)
        key = self._key()

        def evaluate(values, state):
            result = state.forced.get(key)
            if result is None:
                result = round_to_integer(arg(values, state), ceiling)
                if isinstance(result, arb):
                    state.straddled[key] = node
                    return result
            state.made[node] = result
            return result

        return evaluate

    def _ceiling(self, node: sympy.ceiling) -> Closure:
        return self._rounding(node, ceiling=True)

    def _floor(self, node: sympy.floor) -> Closure:
        return self._rounding(node, ceiling=False)

    def _extremum(self, node: sympy.Basic, smallest: bool) -> Closure:
        parts = self._args(node)
        op = "<=" if smallest else ">="

        def pick(x: Number, y: Number) -> Number:
            decided = compare(x, y, op)
            if decided is None:
                return arb.min(as_ball(x), as_ball(y)) if smallest else arb.max(as_ball(x), as_ball(y))
            return x if decided else y

        return self._fold(node, pick)

    def _Min(self, node: sympy.Min) -> Closure:
        return self._extremum(node, smallest=True)

    def _Max(self, node: sympy.Max) -> Closure:
        return self._extremum(node, smallest=False)

    def _relational(self, node: sympy.Basic) -> Closure:
        left, right = self._args(node)
        op = _REL[type(node)]
        key = self._key()

        def evaluate(values, state):
            decided = state.forced.get(key)
            if decided is None:
                decided = compare(left(values, state), right(values, state), op)
                if decided is None:
                    raise Undecided(node, key)
            state.made[node] = decided
            return decided

        return evaluate

    _StrictLessThan = _LessThan = _StrictGreaterThan = _GreaterThan = _Equality = _relational

    def _And(self, node: sympy.And) -> Closure:
        parts = self._args(node)
        return lambda values, state: all(f(values, state) for f in parts)

    def _Or(self, node: sympy.Or) -> Closure:
        parts = self._args(node)
        return lambda values, state: any(f(values, state) for f in parts)

    def _Not(self, node: sympy.Not) -> Closure:
        (part,) = self._args(node)
        return lambda values, state: not part(values, state)

    def _Piecewise(self, node: sympy.Piecewise) -> Closure:
        branches = [(self.compile(expr), self.compile(cond)) for expr, cond in node.args]

        def evaluate(values, state):
            for value, condition in branches:
                if condition(values, state):
                    return value(values, state)
            raise NonFinite(f"no branch of {node} applies")

        return evaluate
