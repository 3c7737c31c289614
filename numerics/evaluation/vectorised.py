"""Vectorised float64 evaluation of a statement over grids of parameters (for plots).

Parameters are arrays that broadcast against each other; per-layer parameters are
sequences whose entries are scalars or arrays. The expression is the same expanded
SymPy form the certified engine uses, lambdified to NumPy. Domain violations and
non-finite results raise; the certified engine is the reference this path is tested
against (float64 relative accuracy, not certified).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import sympy

from derivations import registry
from derivations.statement import INDEX, Statement
from numerics.evaluation.binding import ExpandedForm, ParameterError, _expanded, _plan
from numerics.evaluation.flattened import PRODUCT, SUM, long_operations_as_calls
from numerics.evaluation.special import SPECIAL_FUNCTIONS


_LONG_OPERATIONS = {SUM.__name__: lambda *terms: functools.reduce(operator.add, terms), PRODUCT.__name__: lambda *factors: functools.reduce(operator.mul, factors)}


@lru_cache(maxsize=256)
def _lambdified(expanded: ExpandedForm):
    # plain symbols with reserved names as arguments: lambdify would re-name indexed
    # leaves (sigma[1], ...) at a cost quadratic in their number
    arguments = [sympy.Symbol(f"_rankbound_x{k}") for k in range(len(expanded.leaves))]
    expr = long_operations_as_calls(expanded.expr.xreplace(dict(zip(expanded.leaves, arguments))))
    special = {name: function.numpy for name, function in SPECIAL_FUNCTIONS.items()}
    return sympy.lambdify(arguments, expr, modules=[{**_LONG_OPERATIONS, **special}, "numpy"], dummify=False)


def _check(statement: Statement, name: str, array: np.ndarray) -> None:
    parameter = statement.parameter(name)
    if not np.all(np.isfinite(array)):
        raise ParameterError(f"{name}: must be finite")
    domain = parameter.domain
    if domain.lower is not None:
        bad = array <= float(domain.lower) if domain.lower_open else array < float(domain.lower)
        if np.any(bad):
            raise ParameterError(f"{name}={array[bad].flat[0]!r}: must be {'>' if domain.lower_open else '>='} {domain.lower}")
    if domain.upper is not None:
        bad = array >= float(domain.upper) if domain.upper_open else array > float(domain.upper)
        if np.any(bad):
            raise ParameterError(f"{name}={array[bad].flat[0]!r}: must be {'<' if domain.upper_open else '<='} {domain.upper}")
    if domain.integer and np.any(array != np.round(array)):
        raise ParameterError(f"{name}: must be an integer")


@lru_cache(maxsize=512)
def _lambdified_condition(statement_id: str, condition: sympy.Basic):
    """A hypothesis instance as a NumPy function of its leaves, with where each leaf's values are."""
    statement = registry.get(statement_id)
    by_symbol = {p.symbol: p for p in statement.parameters}
    indexed = sorted(condition.atoms(sympy.Indexed), key=str)
    labels = {i.base.label for i in indexed}
    scalars = sorted((s for s in condition.free_symbols - {INDEX} if s not in labels), key=str)
    leaves = [*indexed, *scalars]
    places = [
        (by_symbol[leaf.base].name, int(leaf.indices[0]) - by_symbol[leaf.base].start) if isinstance(leaf, sympy.Indexed) else (by_symbol[leaf].name, None)
        for leaf in leaves
    ]
    dummies = [sympy.Dummy() for _ in leaves]
    return places, sympy.lambdify(dummies, condition.xreplace(dict(zip(leaves, dummies))), modules="numpy")


def _check_hypotheses(statement: Statement, plan, arrays: Mapping[str, object]) -> None:
    """Every applicable hypothesis must hold at every grid point (checked in float64)."""
    for hypothesis in plan.hypotheses:
        names = {p.name for p in statement.parameters if p.symbol in hypothesis.condition.free_symbols or p.symbol in {i.base for i in hypothesis.condition.atoms(sympy.Indexed)}}
        if not names <= set(arrays):
            continue
        if INDEX in hypothesis.condition.free_symbols:
            lengths = [len(arrays[p.name]) for p in statement.parameters if p.name in names and p.is_sequence]  # type: ignore[arg-type]
            first = min(p.start for p in statement.parameters if p.name in names and p.is_sequence)
            instances = [hypothesis.condition.subs(INDEX, first + k) for k in range(min(lengths))]
        else:
            instances = [hypothesis.condition]
        for instance in instances:
            places, function = _lambdified_condition(statement.id, instance)
            values = [arrays[name][offset] if offset is not None else arrays[name] for name, offset in places]  # type: ignore[index]
            if not np.all(function(*values)):
                raise ParameterError(f"{statement.id}: hypothesis {hypothesis.describe()} violated at some grid points")


def evaluate_float(statement: Statement | str, params: Mapping[str, object], form: str | None = None) -> np.ndarray:
    """Float64 values of a form over broadcast parameter arrays."""
    if isinstance(statement, str):
        statement = registry.get(statement)
    chosen = statement.form(form)
    plan = _plan(statement.id, chosen.name)
    required = set(plan.required)
    unknown = set(params) - plan.allowed
    if unknown:
        raise ParameterError(f"{statement.id}: unknown parameter(s) {', '.join(sorted(unknown))}")
    missing = required - set(params)
    if missing:
        raise ParameterError(f"{statement.id}: missing parameter(s) {', '.join(sorted(missing))}")
    arrays: dict[str, object] = {}
    for name in sorted(required):
        parameter = statement.parameter(name)
        if parameter.is_sequence:
            items = [np.asarray(item, dtype=float) for item in params[name]]  # type: ignore[union-attr]
            for item in items:
                _check(statement, name, item)
            arrays[name] = items
        else:
            array = np.asarray(params[name], dtype=float)
            _check(statement, name, array)
            arrays[name] = array
    shape = []
    for name in sorted(plan.limit_names):  # the number of terms cannot vary over a grid
        array = np.asarray(arrays[name])
        if array.ndim != 0:
            raise ParameterError(f"{name}: fixes the number of terms, so it must be one integer, not a grid")
        shape.append((name, int(array)))
    _check_hypotheses(statement, plan, arrays)
    expanded = _expanded(statement, chosen.name, tuple(shape))
    arguments = []
    for name, index in expanded.leaf_keys:
        value = arrays[name]
        arguments.append(value[index - statement.parameter(name).start] if index is not None else value)  # type: ignore[index]
    with np.errstate(all="ignore"):
        result = np.asarray(_lambdified(expanded)(*arguments), dtype=float)
    if not np.all(np.isfinite(result)):
        raise FloatingPointError(
            f"{statement.id}: float64 evaluation is not finite at some grid points (overflow or a domain error); "
            "use the certified evaluator for values beyond float64"
        )
    return result
