"""Binding parameter values to a statement's form: exact parsing, validation, expansion.

Values are converted to exact rationals (``"0.1"`` is 1/10, a float is its exact binary
value), checked against the declared domains and hypotheses, and the form's per-layer
sums and products are expanded for the given sequence lengths. The expansion depends
only on the lengths, so it is cached: evaluating a bound at many points of the same
shape compiles it once.

Every violation raises :class:`ParameterError` (a ``ValueError``) naming the parameter,
the value and the violated condition.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy
from flint import fmpz

from derivations import registry
from derivations.structure import ExpansionLimit, unroll
from derivations.statement import INDEX, Form, Hypothesis, Parameter, Statement
from numerics.evaluation.digits import short_decimal

Scalar = Fraction
Value = Fraction | tuple[Fraction, ...]


class ParameterError(ValueError):
    """A parameter is missing, unknown, malformed or outside its domain."""


# ------------------------------------------------------------------------ parsing
#: a parameter's exact value p/q must have |p| and q below 10**MAX_VALUE_DIGITS: the
#: limit keeps parsing, exact arithmetic and exact decisions bounded in time and memory
MAX_VALUE_DIGITS = 10_000
_VALUE_LIMIT = 10**MAX_VALUE_DIGITS
#: sums and products over sequences or ranges are unrolled into at most this many nodes
MAX_EXPANDED_NODES = 200_000
#: a number written as a decimal (``1.5e-3``) or a ratio (``1/3``)
_NUMBER = re.compile(
    r"(?P<sign>[-+]?)(?:(?P<num>\d+)\s*/\s*(?P<den>\d+)"
    r"|(?=\.?\d)(?P<whole>\d*)(?:\.(?P<frac>\d*))?(?:[eE](?P<exp>[-+]?\d+))?)"
)


def _too_large(name: str, shown: str) -> ParameterError:
    return ParameterError(f"{name}={shown}: too many digits; a value's numerator and denominator must stay below 10^{MAX_VALUE_DIGITS}")


def _checked_size(name: str, value: Fraction) -> Fraction:
    if abs(value.numerator) >= _VALUE_LIMIT or value.denominator >= _VALUE_LIMIT:
        raise _too_large(name, short_decimal(value))
    return value


def _digits(text: str) -> int:
    """The integer written with the decimal digits ``text`` (any length)."""
    return int(fmpz(text)) if text else 0


def _parse_text(name: str, raw: str) -> Fraction:
    """Exact value of a decimal or ratio string; its size is checked before it is built."""
    match = _NUMBER.fullmatch(raw.strip())
    if match is None:
        raise ParameterError(f"{name}={_clipped(raw)}: not a number (use e.g. 0.1, 1/3 or 1e-5)")
    sign = -1 if match["sign"] == "-" else 1
    if match["num"] is not None:
        numerator, denominator = match["num"].lstrip("0"), match["den"].lstrip("0")
        if not denominator:
            raise ParameterError(f"{name}={_clipped(raw)}: division by zero")
        if max(len(numerator), len(denominator)) > MAX_VALUE_DIGITS:
            raise _too_large(name, _clipped(raw))
        return _checked_size(name, Fraction(sign * _digits(numerator), _digits(denominator)))
    digits = (match["whole"] + (match["frac"] or "")).lstrip("0")
    if not digits:
        return Fraction(0)
    exponent_text = match["exp"] or "0"
    if len(exponent_text.lstrip("+-0")) > len(str(2 * MAX_VALUE_DIGITS)):
        raise _too_large(name, _clipped(raw))
    scale = int(exponent_text) - len(match["frac"] or "")  # value = digits * 10**scale
    if len(digits) + max(scale, 0) > MAX_VALUE_DIGITS + 1 or -scale > MAX_VALUE_DIGITS + 1:
        raise _too_large(name, _clipped(raw))
    value = Fraction(sign * _digits(digits) * 10 ** max(scale, 0), 10 ** max(-scale, 0))
    return _checked_size(name, value)


def _clipped(raw: str) -> str:
    return repr(raw) if len(raw) <= 40 else repr(raw[:37] + "...")


def to_fraction(name: str, raw: object) -> Fraction:
    """Exact rational value of ``raw`` (str, int, float, Fraction, SymPy number).

    Numerators and denominators are limited to ``MAX_VALUE_DIGITS`` digits, whichever way
    the value is written (``1e4400`` and 4401 written digits alike).
    """
    if isinstance(raw, bool):
        raise ParameterError(f"{name}={raw!r}: expected a number, got a boolean")
    if isinstance(raw, Fraction):
        return _checked_size(name, raw)
    if isinstance(raw, int):
        return _checked_size(name, Fraction(raw))
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ParameterError(f"{name}={raw!r}: must be a finite number")
        return Fraction(raw)
    if isinstance(raw, sympy.Rational):
        return _checked_size(name, Fraction(int(raw.p), int(raw.q)))
    if isinstance(raw, str):
        return _parse_text(name, raw)
    try:  # numpy scalars and other number types
        as_float = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"{name}: a {type(raw).__name__} is not a number") from None
    return to_fraction(name, as_float)


def to_sequence(name: str, raw: object) -> tuple[Fraction, ...]:
    """A per-layer sequence from a list/tuple/array or a comma-separated string."""
    if isinstance(raw, str):
        items: Sequence[object] = raw.split(",") if raw.strip() else []
        for position, item in enumerate(items):
            if not item.strip():
                raise ParameterError(f"{name}={_clipped(raw)}: item {position + 1} of the comma-separated list is empty")
    elif isinstance(raw, (list, tuple)) or hasattr(raw, "tolist"):
        items = list(raw.tolist() if hasattr(raw, "tolist") else raw)  # type: ignore[union-attr]
    else:
        items = [raw]
    if not items:
        raise ParameterError(f"{name}: empty sequence")
    return tuple(to_fraction(f"{name}[{k}]", item) for k, item in enumerate(items))


# ------------------------------------------------------------------------ the bound point
@dataclass(frozen=True)
class BoundPoint:
    """A validated point: exact values of a form's parameters and the expanded expression."""

    statement: Statement
    form: Form
    values: Mapping[str, Value]
    expanded: "ExpandedForm"

    def leaf_values(self) -> list[Fraction]:
        """Values of the expanded expression's leaves, in :attr:`ExpandedForm.leaves` order."""
        values = self.values
        return [values[name] if offset is None else values[name][offset] for name, offset in self.expanded.leaf_offsets]  # type: ignore[index]

    def describe(self) -> str:
        """The parameter values for messages, e.g. ``m=100, p=1e-300, s=[1, 2]`` (any magnitude)."""
        return ", ".join(f"{name}={_show_value(value)}" for name, value in self.values.items())

    def exact_substitution(self) -> dict[sympy.Basic, sympy.Rational]:
        """Leaf -> exact SymPy rational, for exact (slow) SymPy decisions."""
        return {
            leaf: sympy.Rational(value.numerator, value.denominator)
            for leaf, value in zip(self.expanded.leaves, self.leaf_values())
        }


@dataclass(frozen=True)
class ExpandedForm:
    """A form with per-layer sums/products expanded for fixed sequence lengths.

    ``leaves`` are the scalar symbols and indexed elements (``s[1]``, ``s[2]`` ...) the
    expression depends on; ``leaf_keys`` names them as (parameter name, index or None).
    """

    expr: sympy.Expr
    leaves: tuple[sympy.Basic, ...]
    leaf_keys: tuple[tuple[str, int | None], ...]
    #: (parameter name, position in its sequence or None) for each leaf
    leaf_offsets: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class _FormPlan:
    """What binding needs to know about one form, derived once from the declaration."""

    required: tuple[str, ...]
    allowed: frozenset[str]
    limit_names: frozenset[str]  #: parameters that fix the number of terms (sum limits)
    hypotheses: tuple[Hypothesis, ...]  #: the statement's hypotheses that apply to this form


@lru_cache(maxsize=512)
def _plan(statement_id: str, form_name: str) -> _FormPlan:
    statement = registry.get(statement_id)
    form = statement.form(form_name)
    limits: set[sympy.Basic] = set()
    for node in form.expr.atoms(sympy.Sum, sympy.Product):
        for _, low, high in node.limits:
            limits |= low.free_symbols | high.free_symbols
    return _FormPlan(
        required=tuple(p.name for p in statement.required_parameters(form)),
        allowed=frozenset(p.name for p in statement.parameters),
        limit_names=frozenset(p.name for p in statement.parameters if p.symbol in limits),
        hypotheses=tuple(h for h in statement.hypotheses if h.applies_to(form)),
    )


def bind(statement: Statement | str, params: Mapping[str, object], form: str | None = None) -> BoundPoint:
    """Parse, validate and expand: the single entry point of every evaluator."""
    if isinstance(statement, str):
        statement = registry.get(statement)
    chosen = statement.form(form)
    plan = _plan(statement.id, chosen.name)
    unknown = sorted(set(params) - plan.allowed)
    if unknown:
        raise ParameterError(f"{statement.id}: unknown parameter(s) {', '.join(unknown)}; expected {', '.join(plan.required)}")
    values: dict[str, Value] = {}
    for parameter in statement.parameters:
        if parameter.name in params:
            values[parameter.name] = _parse(parameter, params[parameter.name])
    _infer_lengths(statement, values)
    missing = [name for name in plan.required if name not in values]
    if missing:
        raise ParameterError(f"{statement.id}: missing parameter(s) {', '.join(missing)}")
    for parameter in statement.parameters:
        if parameter.name in values:
            _check_domain(parameter, values[parameter.name])
    _check_lengths(statement, values)
    shape = tuple((name, int(values[name])) for name in sorted(plan.limit_names) if name in values)  # type: ignore[arg-type]
    expanded = _expanded(statement, chosen.name, shape)
    _check_hypotheses(statement, plan, values)
    return BoundPoint(statement, chosen, values, expanded)


def _parse(parameter: Parameter, raw: object) -> Value:
    if parameter.is_sequence:
        return to_sequence(parameter.name, raw)
    if isinstance(raw, (list, tuple)):
        raise ParameterError(f"{parameter.name}: expected one number, got a sequence")
    return to_fraction(parameter.name, raw)


def _infer_lengths(statement: Statement, values: dict[str, Value]) -> None:
    """Fill in a length parameter (e.g. L) from a given sequence when it was omitted."""
    for parameter in statement.parameters:
        if not parameter.is_sequence or parameter.name not in values:
            continue
        free = parameter.length.free_symbols
        if len(free) != 1:
            continue
        (length_symbol,) = free
        owner = next(p for p in statement.parameters if p.symbol == length_symbol)
        if owner.name in values:
            continue
        solution = sympy.solve(sympy.Eq(parameter.length, len(values[parameter.name])), length_symbol)  # type: ignore[arg-type]
        if len(solution) == 1 and solution[0].is_integer:
            values[owner.name] = Fraction(int(solution[0]))


def _check_domain(parameter: Parameter, value: Value) -> None:
    items = value if isinstance(value, tuple) else (value,)
    for position, item in enumerate(items):
        violation = parameter.domain.violation(item)
        if violation:
            label = f"{parameter.name}[{position + parameter.start}]" if parameter.is_sequence else parameter.name
            raise ParameterError(f"{label}={short_decimal(item)}: must be {violation} ({parameter.describe()})")


@lru_cache(maxsize=256)
def _length_function(statement_id: str, name: str):
    """A fast evaluator of a sequence's declared length, e.g. ``L + 1``."""
    parameter = registry.get(statement_id).parameter(name)
    symbols = sorted(parameter.length.free_symbols, key=str)
    owners = {p.symbol: p.name for p in registry.get(statement_id).parameters}
    return tuple(owners[s] for s in symbols), sympy.lambdify(symbols, parameter.length, modules=[{}, "math"])


def _check_lengths(statement: Statement, values: Mapping[str, Value]) -> None:
    for parameter in statement.parameters:
        if parameter.is_sequence and parameter.name in values:
            names, length = _length_function(statement.id, parameter.name)
            missing = [name for name in names if name not in values]
            if missing:
                raise ParameterError(f"{parameter.name}: its length depends on {', '.join(missing)}, which is missing")
            expected = length(*(values[name] for name in names))
            got = len(values[parameter.name])  # type: ignore[arg-type]
            if got != expected:
                raise ParameterError(f"{parameter.name}: has {got} entries but {parameter.length} = {short_decimal(Fraction(expected))} are required")


@lru_cache(maxsize=2048)
def _compiled_condition(statement_id: str, condition: sympy.Basic):
    """A hypothesis instance compiled with the exact/ball compiler, and where its leaves'
    values are: (parameter name, position in the sequence or None)."""
    from numerics.evaluation.ball import compile_expression

    statement = registry.get(statement_id)
    by_symbol = {p.symbol: p for p in statement.parameters}
    indexed = sorted(condition.atoms(sympy.Indexed), key=str)
    labels = {i.base.label for i in indexed}
    scalars = sorted((s for s in condition.free_symbols - {INDEX} if s not in labels), key=str)
    leaves = (*indexed, *scalars)
    offsets = tuple(
        (by_symbol[leaf.base].name, int(leaf.indices[0]) - by_symbol[leaf.base].start) if isinstance(leaf, sympy.Indexed) else (by_symbol[leaf].name, None)
        for leaf in leaves
    )
    return offsets, compile_expression(condition, leaves)


def _decide(statement: Statement, condition: sympy.Basic, values: Mapping[str, Value]) -> bool | None:
    """Decide a hypothesis instance exactly: rationals and balls, SymPy at a tie."""
    from flint import ctx, fmpq

    from numerics.evaluation.ball import Decisions, NonFinite, Undecided

    offsets, closure = _compiled_condition(statement.id, condition)
    arguments = []
    for name, offset in offsets:
        item = values[name] if offset is None else values[name][offset]  # type: ignore[index]
        arguments.append(fmpq(item.numerator, item.denominator))  # type: ignore[union-attr]
    try:
        with ctx.workprec(128):
            return bool(closure(arguments, Decisions()))
    except (Undecided, NonFinite):
        decided = condition.xreplace(_substitution(statement, values))
        return bool(decided) if isinstance(decided, sympy.logic.boolalg.BooleanAtom) else None


@lru_cache(maxsize=1024)
def _hypothesis_names(statement_id: str, condition: sympy.Basic) -> frozenset[str]:
    statement = registry.get(statement_id)
    symbols = _symbols_of(condition)
    return frozenset(p.name for p in statement.parameters if p.symbol in symbols)


def _check_hypotheses(statement: Statement, plan: _FormPlan, values: Mapping[str, Value]) -> None:
    for hypothesis in plan.hypotheses:
        names = _hypothesis_names(statement.id, hypothesis.condition)
        if not names <= values.keys():
            continue  # concerns parameters not given (an optional parameter of this form)
        for instance in _instances(statement, hypothesis.condition, values):
            decided = _decide(statement, instance, values)
            if decided:
                continue
            detail = ", ".join(f"{name}={_show_value(values[name])}" for name in sorted(names))
            if decided is False:
                raise ParameterError(f"{statement.id}: hypothesis {hypothesis.describe()} violated ({detail})")
            raise ParameterError(f"{statement.id}: cannot decide hypothesis {hypothesis.describe()} exactly ({detail})")


def _symbols_of(expr: sympy.Basic) -> set[sympy.Basic]:
    found = set(expr.free_symbols)
    found |= {indexed.base for indexed in expr.atoms(sympy.Indexed)}
    return found


def _instances(statement: Statement, condition: sympy.Basic, values: Mapping[str, Value]) -> list[sympy.Basic]:
    """The condition itself, or one instance per index when it contains INDEX."""
    if not _has_index(condition):
        return [condition]
    ranges = []
    for indexed in condition.atoms(sympy.Indexed):
        parameter = next(p for p in statement.parameters if p.symbol == indexed.base)
        length = len(values[parameter.name])  # type: ignore[arg-type]
        ranges.append(range(parameter.start, parameter.start + length))
    indices = set.intersection(*(set(r) for r in ranges))
    return [condition.subs(INDEX, index) for index in sorted(indices)]


@lru_cache(maxsize=1024)
def _has_index(condition: sympy.Basic) -> bool:
    return INDEX in condition.free_symbols


def _substitution(statement: Statement, values: Mapping[str, Value]) -> dict[sympy.Basic, sympy.Basic]:
    mapping: dict[sympy.Basic, sympy.Basic] = {}
    for parameter in statement.parameters:
        if parameter.name not in values:
            continue
        value = values[parameter.name]
        if parameter.is_sequence:
            for offset, item in enumerate(value):  # type: ignore[arg-type]
                mapping[parameter.symbol[parameter.start + offset]] = sympy.Rational(item.numerator, item.denominator)
        else:
            mapping[parameter.symbol] = sympy.Rational(value.numerator, value.denominator)  # type: ignore[union-attr]
    return mapping


def _expanded(statement: Statement, form_name: str, shape: tuple[tuple[str, int], ...]) -> ExpandedForm:
    """The expanded form, or a :class:`ParameterError` naming the parameters that make it too large."""
    try:
        if any(value > MAX_EXPANDED_NODES for _, value in shape):
            raise ExpansionLimit(f"the expansion exceeds {MAX_EXPANDED_NODES} nodes")
        return _expand(statement.id, form_name, shape)
    except ExpansionLimit:
        sizes = ", ".join(f"{name}={short_decimal(Fraction(value))}" for name, value in shape)
        others = [form.name for form in statement.forms if form.name != form_name and not _plan(statement.id, form.name).limit_names]
        hint = f", or the form {statement.form_key}={others[0]}" if others else ""
        raise ParameterError(
            f"{statement.id}: {sizes} would expand the sums and products of form {form_name!r} past "
            f"{MAX_EXPANDED_NODES} terms (the limit that keeps evaluation time and memory bounded); use smaller values{hint}"
        ) from None


@lru_cache(maxsize=512)
def _expand(statement_id: str, form_name: str, shape: tuple[tuple[str, int], ...]) -> ExpandedForm:
    statement = registry.get(statement_id)
    constants = {statement.parameter(name).symbol: sympy.Integer(value) for name, value in shape}
    expr = unroll(statement.form(form_name).expr, constants, max_nodes=MAX_EXPANDED_NODES)
    leaves, keys, offsets = [], [], []
    by_symbol = {p.symbol: p for p in statement.parameters}
    for atom in sorted(expr.atoms(sympy.Symbol), key=str):
        if atom in by_symbol:
            leaves.append(atom)
            keys.append((by_symbol[atom].name, None))
            offsets.append((by_symbol[atom].name, None))
    for indexed in sorted(expr.atoms(sympy.Indexed), key=str):
        parameter = by_symbol[indexed.base]
        index = int(indexed.indices[0])
        leaves.append(indexed)
        keys.append((parameter.name, index))
        offsets.append((parameter.name, index - parameter.start))
    return ExpandedForm(expr, tuple(leaves), tuple(keys), tuple(offsets))


def _show_value(value: Value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(short_decimal(v) for v in value) + "]"
    return short_decimal(value)
